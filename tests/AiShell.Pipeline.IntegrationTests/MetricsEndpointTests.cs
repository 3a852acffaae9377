using System.Net;
using System.Text.Json;
using AiShell.Pipeline.IntegrationTests.Harness;

namespace AiShell.Pipeline.IntegrationTests;

public sealed class MetricsEndpointTests(RunningExporterFixture fixture) : IClassFixture<RunningExporterFixture>
{
    private const string OpenMetricsAccept = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    private static readonly string[] SeedSystemMetrics =
    [
        "aishell_cpu_usage_percent", "aishell_memory_usage_bytes", "aishell_memory_available_bytes",
        "aishell_disk_reads_total", "aishell_disk_writes_total", "aishell_network_bytes_received", "aishell_network_bytes_sent",
    ];

    private ExporterProcess Exporter => fixture.Exporter;

    private async Task<(HttpResponseMessage Response, string Body)> GetAsync(string path, string? accept = null, bool gzip = false)
    {
        using var http = new HttpClient(new HttpClientHandler { AutomaticDecompression = DecompressionMethods.None });
        return await MetricsHttp.GetAsync(http, new Uri(Exporter.BaseUrl, path), accept, gzip);
    }

    [Fact]
    public async Task Text004_HasEverySeedSystemMetric_WithConstantLabels_AndPassesPromtool()
    {
        (HttpResponseMessage response, string body) = await GetAsync("/metrics");
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        foreach (string metric in SeedSystemMetrics)
        {
            Assert.True(Exposition.Has(body, metric), $"{metric} is missing");
        }

        Assert.Contains("aishell_memory_usage_bytes{environment=\"ci \\\"quoted\\\" \\\\ env\",region=\"local\"} ", body, StringComparison.Ordinal);
        Assert.Equal(1, Exposition.Value(body, "aishell_collector_up{environment=\"ci \\\"quoted\\\" \\\\ env\",region=\"local\",collector=\"host\"}"));
        await Promtool.AssertCleanAsync(body);
    }

    [Fact]
    public async Task OpenMetrics_IsNegotiated_EndsWithEof_AndHasTheSameSeries()
    {
        (HttpResponseMessage response, string om) = await GetAsync("/metrics", OpenMetricsAccept);
        Assert.Equal("application/openmetrics-text; version=1.0.0; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        Assert.EndsWith("\n# EOF\n", om, StringComparison.Ordinal);
        Assert.Contains("# TYPE aishell_disk_reads counter\n", om, StringComparison.Ordinal);
        Assert.Contains("# TYPE aishell_network_bytes_received unknown\n", om, StringComparison.Ordinal);

        (_, string text) = await GetAsync("/metrics");
        static HashSet<string> Names(string t) => Exposition.Samples(t).Select(s => s.Series.Split('{')[0]).ToHashSet();
        HashSet<string> omNames = Names(om);
        omNames.SymmetricExceptWith(Names(text));
        omNames.RemoveWhere(n => n.StartsWith("aishell_http_", StringComparison.Ordinal) || n.StartsWith("aishell_exporter_scrapes", StringComparison.Ordinal));
        Assert.Empty(omNames); // only the exporter's own traffic may differ between the two scrapes
    }

    [Fact]
    public async Task Gzip_IsUsedWhenTheScraperAsks()
    {
        (HttpResponseMessage response, string body) = await GetAsync("/metrics", gzip: true);
        Assert.Contains("gzip", response.Content.Headers.ContentEncoding);
        Assert.True(Exposition.Has(body, "aishell_cpu_usage_percent"));
        (HttpResponseMessage plain, _) = await GetAsync("/metrics");
        Assert.Empty(plain.Content.Headers.ContentEncoding);
    }

    [Fact]
    public async Task Healthz_Ready_AndStatus_Answer()
    {
        (HttpResponseMessage health, string ok) = await GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal("ok\n", ok);
        (HttpResponseMessage ready, _) = await GetAsync("/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);

        (HttpResponseMessage statusResponse, string json) = await GetAsync("/api/v1/status");
        Assert.Equal("application/json; charset=utf-8", statusResponse.Content.Headers.ContentType!.ToString());
        using JsonDocument doc = JsonDocument.Parse(json);
        JsonElement root = doc.RootElement;
        Assert.Matches(@"^\d+\.\d+\.\d+", root.GetProperty("version").GetString());
        Assert.True(root.GetProperty("uptime_seconds").GetDouble() > 0);
        Assert.True(root.GetProperty("series").GetInt32() > 10);
        Assert.True(root.GetProperty("ready").GetBoolean());
        JsonElement host = root.GetProperty("collectors").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "host");
        Assert.Contains(root.GetProperty("collectors").EnumerateArray(), c => c.GetProperty("name").GetString() == "process");
        Assert.Equal("host", host.GetProperty("name").GetString());
        Assert.True(host.GetProperty("up").GetBoolean());
        Assert.NotEqual(JsonValueKind.Null, host.GetProperty("last_success").ValueKind);
        Assert.Equal(JsonValueKind.Null, host.GetProperty("last_error").ValueKind);
        _ = await GetAsync("/metrics");
        (_, string again) = await GetAsync("/api/v1/status");
        using JsonDocument doc2 = JsonDocument.Parse(again);
        Assert.True(doc2.RootElement.GetProperty("last_scrape_duration_seconds").GetDouble() > 0);
    }

    [Fact]
    public async Task UnknownPath404_PostToMetrics405_AndOwnTrafficIsCounted()
    {
        (HttpResponseMessage missing, _) = await GetAsync("/nope-" + Guid.NewGuid());
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using var http = new HttpClient();
        HttpResponseMessage post = await http.PostAsync(Exporter.MetricsUrl, new StringContent("x"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);

        (_, string body) = await GetAsync("/metrics");
        const string labels = "environment=\"ci \\\"quoted\\\" \\\\ env\",region=\"local\"";
        Assert.True(Exposition.Value(body, $"aishell_exporter_http_requests_total{{{labels},method=\"GET\",endpoint=\"other\",status=\"404\"}}") >= 1);
        Assert.True(Exposition.Value(body, $"aishell_exporter_http_requests_total{{{labels},method=\"POST\",endpoint=\"/metrics\",status=\"405\"}}") >= 1);
        Assert.True(Exposition.Has(body, "aishell_exporter_http_request_duration_seconds_bucket"));
    }

    [Fact]
    public async Task StatusCommand_AgainstTheRunningExporter_ExitsZeroAndPrintsHealth()
    {
        RunResult result = await ProcessRunner.RunAsync(NativeBinary.Path,
            ["prometheus", "status", "--host", "127.0.0.1", "--port", Exporter.MetricsUrl.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            ExporterProcess.Env(Exporter.Home));
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("✓ Prometheus exporter running", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("Ready:            yes", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("✓ host: last success", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StatusCommand_WhenNothingListens_ExitsOne()
    {
        int port = ProcessRunner.FreePort();
        RunResult result = await ProcessRunner.RunAsync(NativeBinary.Path,
            ["prometheus", "status", "--host", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            ExporterProcess.Env(Exporter.Home));
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("not reachable", result.Stderr, StringComparison.Ordinal);
    }
}
