using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using AiShell.Pipeline.Configuration;

namespace AiShell.Cli;

/// <summary>
/// <c>aishell prometheus status [--config FILE] [--port N] [--host H]</c>: asks the running exporter's
/// <c>/api/v1/status</c> and prints its health. Exit 0 when it answers, 1 when it cannot be reached.
/// </summary>
internal static class PrometheusStatusCommand
{
    public static Command Create()
    {
        Option<string?> config = CliOptions.Config();
        Option<int?> port = CliOptions.Port("Port of the running exporter (default: prometheus.port).");
        Option<string?> host = CliOptions.Host("Host of the running exporter (default: prometheus.host, wildcards as localhost).");
        var command = new Command("status", "Show the health of a running exporter.") { config, port, host };
        command.SetAction((result, ct) => RunAsync(result.GetValue(config), result.GetValue(port), result.GetValue(host), ct));
        return command;
    }

    private static async Task<int> RunAsync(string? configPath, int? port, string? host, CancellationToken cancellationToken)
    {
        ExporterConfig config;
        try
        {
            config = ConfigLoader.Load(configPath);
        }
        catch (ConfigException ex)
        {
            await Console.Error.WriteLineAsync($"✗ {ex.Message}");
            return 2;
        }

        string target = CliOptions.DisplayHost(host ?? config.Host);
        int targetPort = port ?? config.Port;
        var url = new Uri($"http://{(target == "localhost" ? "127.0.0.1" : target)}:{targetPort}/api/v1/status");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        string body;
        try
        {
            using HttpResponseMessage response = await http.GetAsync(url, cancellationToken);
            body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                await Console.Error.WriteLineAsync($"✗ Exporter at {target}:{targetPort} answered {(int)response.StatusCode}");
                return 1;
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            await Console.Error.WriteLineAsync($"✗ Prometheus exporter not reachable at http://{target}:{targetPort} ({ex.GetBaseException().Message})");
            return 1;
        }

        try
        {
            Print(body, target, targetPort);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            await Console.Error.WriteLineAsync($"✗ {target}:{targetPort} answered, but not with an aishell status document");
            return 1;
        }

        return 0;
    }

    private static void Print(string body, string host, int port)
    {
        using JsonDocument doc = JsonDocument.Parse(body);
        JsonElement root = doc.RootElement;
        bool ready = root.GetProperty("ready").GetBoolean();
        Console.WriteLine($"✓ Prometheus exporter running (version {root.GetProperty("version").GetString()}, up {Duration(root.GetProperty("uptime_seconds").GetDouble())})");
        Console.WriteLine($"  Metrics endpoint: http://{host}:{port}{root.GetProperty("metrics_path").GetString()}");
        Console.WriteLine($"  Ready:            {(ready ? "yes" : "no")}");
        Console.WriteLine($"  Series:           {root.GetProperty("series").GetInt32()}");
        Console.WriteLine($"  Scrapes:          {root.GetProperty("scrapes").GetInt64()} (last took {root.GetProperty("last_scrape_duration_seconds").GetDouble() * 1000:0.###} ms)");
        Console.WriteLine("  Collectors:");
        foreach (JsonElement c in root.GetProperty("collectors").EnumerateArray())
        {
            bool up = c.GetProperty("up").GetBoolean();
            string name = c.GetProperty("name").GetString() + (c.GetProperty("database").GetString() is { Length: > 0 } db ? "/" + db : "");
            string detail = up
                ? $"last success {c.GetProperty("last_success").GetString()}, took {c.GetProperty("last_duration_seconds").GetDouble() * 1000:0.###} ms"
                : $"DOWN: {c.GetProperty("last_error").GetString() ?? "no successful run yet"}";
            Console.WriteLine($"    {(up ? "✓" : "✗")} {name}: {detail} (failures: {c.GetProperty("failures_total").GetInt64()})");
        }
    }

    private static string Duration(double seconds) =>
        seconds < 120 ? seconds.ToString("0.#", CultureInfo.InvariantCulture) + "s"
            : TimeSpan.FromSeconds(seconds).ToString(@"d\.hh\:mm\:ss", CultureInfo.InvariantCulture);
}
