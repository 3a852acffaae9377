using System.Text.Json;

namespace AiShell.Pipeline.Server;

/// <summary><c>/api/v1/status</c>, written with <see cref="Utf8JsonWriter"/> (no reflection, AOT-safe).</summary>
internal static class StatusJson
{
    public static void Write(Utf8JsonWriter json, StatusView view)
    {
        json.WriteStartObject();
        json.WriteString("version", view.Version);
        json.WriteNumber("uptime_seconds", Math.Round(view.Uptime.TotalSeconds, 3));
        json.WriteBoolean("ready", view.Pipeline.Ready);
        json.WriteNumber("series", view.SeriesCount);
        json.WriteNumber("families", view.FamilyCount);
        json.WriteNumber("last_scrape_duration_seconds", view.LastScrapeSeconds);
        json.WriteNumber("scrapes", view.Scrapes);
        json.WriteString("metrics_path", view.MetricsPath);
        json.WriteStartArray("collectors");
        foreach (CollectorStatus s in view.Pipeline.Collectors())
        {
            json.WriteStartObject();
            json.WriteString("name", s.Name);
            json.WriteString("database", s.Database);
            json.WriteBoolean("up", s.Up);
            WriteTime(json, "last_success", s.LastSuccess);
            json.WriteNumber("last_duration_seconds", Math.Round(s.LastDuration.TotalSeconds, 6));
            if (s.LastError is null)
            {
                json.WriteNull("last_error");
            }
            else
            {
                json.WriteString("last_error", s.LastError);
            }

            WriteTime(json, "last_error_time", s.LastErrorTime);
            json.WriteNumber("failures_total", s.TotalFailures);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        if (view.Cluster is { } cluster)
        {
            json.WriteStartObject("cluster");
            json.WriteString("name", cluster.Name);
            json.WriteString("self", cluster.Self);
            json.WriteStartArray("members");
            foreach (ClusterMemberStatus m in cluster.Members)
            {
                json.WriteStartObject();
                json.WriteString("address", m.Address);
                json.WriteString("http", m.Http);
                json.WriteString("status", m.Status);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartArray("databases");
            foreach (string database in cluster.Databases)
            {
                json.WriteStringValue(database);
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        json.WriteEndObject();
        json.Flush();
    }

    private static void WriteTime(Utf8JsonWriter json, string name, DateTimeOffset? time)
    {
        if (time is { } t)
        {
            json.WriteString(name, t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture));
        }
        else
        {
            json.WriteNull(name);
        }
    }
}

internal sealed record StatusView(string Version, TimeSpan Uptime, IExporterStatus Pipeline, int SeriesCount,
    int FamilyCount, double LastScrapeSeconds, long Scrapes, string MetricsPath, ClusterStatus? Cluster);
