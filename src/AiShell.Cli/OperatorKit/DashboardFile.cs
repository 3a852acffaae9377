using System.Text;
using System.Text.Json;
using AiShell.Pipeline.Configuration;

namespace AiShell.Cli.OperatorKit;

/// <summary>
/// A Grafana dashboard with the integration guide's Overview, Performance and Resource panels plus pool
/// utilisation and database growth; a Prometheus datasource variable and a multi-value
/// <c>database</c> variable. Written with <see cref="Utf8JsonWriter"/> (no reflection).
/// </summary>
internal static class DashboardFile
{
    public const string Uid = "aishell-overview";

    /// <summary>(title, unit, [(expr, legend)]) per panel, grouped in rows.</summary>
    public static IReadOnlyList<(string Row, IReadOnlyList<(string Title, string Unit, (string Expr, string Legend)[] Targets)> Panels)> Layout(ExporterConfig config)
    {
        string p = config.Prefix;
        const string db = "database=~\"$database\"";
        return
        [
            ("Overview",
            [
                ("QPS", "reqps", [($"sum by (database) (rate({p}_query_total{{{db}}}[5m]))", "{{database}}")]),
                ("Average latency", "s", [($"sum by (database) (rate({p}_query_duration_seconds_sum{{{db}}}[5m])) / sum by (database) (rate({p}_query_duration_seconds_count{{{db}}}[5m]))", "{{database}}")]),
                ("Error rate", "percentunit", [($"sum by (database) (rate({p}_query_errors_total{{{db}}}[5m])) / sum by (database) (rate({p}_query_total{{{db}}}[5m]))", "{{database}}")]),
                ("Active connections", "short", [($"{p}_connections_active{{{db}}}", "{{database}} ({{source}})")]),
            ]),
            ("Performance",
            [
                ("Latency p50 / p95 / p99", "s",
                [
                    ($"histogram_quantile(0.50, sum by (database, le) (rate({p}_query_duration_seconds_bucket{{{db}}}[5m])))", "p50 {{database}}"),
                    ($"histogram_quantile(0.95, sum by (database, le) (rate({p}_query_duration_seconds_bucket{{{db}}}[5m])))", "p95 {{database}}"),
                    ($"histogram_quantile(0.99, sum by (database, le) (rate({p}_query_duration_seconds_bucket{{{db}}}[5m])))", "p99 {{database}}"),
                ]),
                ("Slow query rate", "reqps", [($"sum by (database, threshold) (rate({p}_slow_query_total{{{db}}}[5m]))", "{{database}} > {{threshold}}s")]),
                ("Cache hit rate", "percentunit", [($"{p}_cache_hit_rate{{{db}}}", "{{database}}")]),
                ("Pool utilisation", "percentunit", [($"{p}_connections_active{{{db}}} / {p}_connections_pool_size{{{db}}}", "{{database}} ({{source}})")]),
            ]),
            ("Resources",
            [
                ("CPU usage", "percent", [($"{p}_cpu_usage_percent", "{{instance}}")]),
                ("Memory usage", "percent", [($"({p}_memory_usage_bytes / ({p}_memory_usage_bytes + {p}_memory_available_bytes)) * 100", "{{instance}}")]),
                ("Disk writes", "wps", [($"rate({p}_disk_writes_total[5m])", "{{instance}} {{device}}")]),
                ("Database growth", "Bps", [($"deriv({p}_database_size_bytes{{{db}}}[1h])", "{{database}}")]),
            ]),
        ];
    }

    /// <param name="apiEnvelope">
    /// True: <c>{"dashboard": ..., "overwrite": true}</c>, what the integration guide's
    /// <c>curl -X POST .../api/dashboards/db -d @file</c> needs. False: the bare dashboard model,
    /// for Grafana's import screen and file provisioning.
    /// </param>
    public static string Create(ExporterConfig config, bool apiEnvelope)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            if (apiEnvelope)
            {
                json.WriteStartObject();
                json.WritePropertyName("dashboard");
            }

            WriteDashboard(json, config);
            if (apiEnvelope)
            {
                json.WriteBoolean("overwrite", true);
                json.WriteEndObject();
            }
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    private static void WriteDashboard(Utf8JsonWriter json, ExporterConfig config)
    {
        json.WriteStartObject();
        json.WriteNull("id");
        json.WriteString("uid", Uid);
        json.WriteString("title", "AI-Shell: databases, queries and host");
        json.WriteStartArray("tags");
        json.WriteStringValue("aishell");
        json.WriteStringValue("postgresql");
        json.WriteEndArray();
        json.WriteNumber("schemaVersion", 39);
        json.WriteNumber("version", 1);
        json.WriteString("refresh", "30s");
        json.WriteStartObject("time");
        json.WriteString("from", "now-1h");
        json.WriteString("to", "now");
        json.WriteEndObject();
        WriteTemplating(json, config.Prefix);
        json.WriteStartArray("panels");
        int id = 1, y = 0;
        foreach ((string row, var panels) in Layout(config))
        {
            json.WriteStartObject();
            json.WriteNumber("id", id++);
            json.WriteString("type", "row");
            json.WriteString("title", row);
            json.WriteBoolean("collapsed", false);
            GridPos(json, 0, y++, 24, 1);
            json.WriteStartArray("panels");
            json.WriteEndArray();
            json.WriteEndObject();
            int x = 0;
            foreach ((string title, string unit, (string Expr, string Legend)[] targets) in panels)
            {
                WritePanel(json, id++, title, unit, targets, x, y);
                x += 6;
            }

            y += 8;
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WriteTemplating(Utf8JsonWriter json, string prefix)
    {
        json.WriteStartObject("templating");
        json.WriteStartArray("list");
        json.WriteStartObject();
        json.WriteString("name", "datasource");
        json.WriteString("label", "Data source");
        json.WriteString("type", "datasource");
        json.WriteString("query", "prometheus");
        json.WriteBoolean("hide", false);
        json.WriteEndObject();
        json.WriteStartObject();
        json.WriteString("name", "database");
        json.WriteString("label", "Database");
        json.WriteString("type", "query");
        Datasource(json);
        json.WriteString("query", $"label_values({prefix}_up, database)");
        json.WriteString("definition", $"label_values({prefix}_up, database)");
        json.WriteNumber("refresh", 2);
        json.WriteBoolean("multi", true);
        json.WriteBoolean("includeAll", true);
        json.WriteString("allValue", ".*");
        json.WriteNumber("sort", 1);
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WritePanel(Utf8JsonWriter json, int id, string title, string unit, (string Expr, string Legend)[] targets, int x, int y)
    {
        json.WriteStartObject();
        json.WriteNumber("id", id);
        json.WriteString("type", "timeseries");
        json.WriteString("title", title);
        Datasource(json);
        GridPos(json, x, y, 6, 8);
        json.WriteStartObject("fieldConfig");
        json.WriteStartObject("defaults");
        json.WriteString("unit", unit);
        json.WriteEndObject();
        json.WriteStartObject("overrides");
        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteStartArray("targets");
        char refId = 'A';
        foreach ((string expr, string legend) in targets)
        {
            json.WriteStartObject();
            Datasource(json);
            json.WriteString("expr", expr);
            json.WriteString("legendFormat", legend);
            json.WriteString("refId", (refId++).ToString());
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void Datasource(Utf8JsonWriter json)
    {
        json.WriteStartObject("datasource");
        json.WriteString("type", "prometheus");
        json.WriteString("uid", "${datasource}");
        json.WriteEndObject();
    }

    private static void GridPos(Utf8JsonWriter json, int x, int y, int w, int h)
    {
        json.WriteStartObject("gridPos");
        json.WriteNumber("x", x);
        json.WriteNumber("y", y);
        json.WriteNumber("w", w);
        json.WriteNumber("h", h);
        json.WriteEndObject();
    }
}
