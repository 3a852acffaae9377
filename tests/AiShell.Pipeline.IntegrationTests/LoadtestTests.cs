using AiShell.Pipeline.IntegrationTests.Harness;
using AiShell.Pipeline.Tests.Shared;

namespace AiShell.Pipeline.IntegrationTests;

/// <summary>`aishell loadtest` from the native binary.</summary>
public sealed class LoadtestTests
{
    [Fact]
    public async Task Synthetic_CountsEveryRecordedEventExactly()
    {
        using var home = new TempHome();
        RunResult result = await home.RunAsync("loadtest", "--synthetic", "--duration", "2s", "--concurrency", "2");
        Assert.True(result.ExitCode == 0, result.All);
        Assert.Matches(@"counted\s+[\d,]+ of [\d,]+ recorded \(exact\)", result.Stdout);
        Assert.Matches(@"observed\s+[\d,]+ in the histogram, [\d,]+ in the summary \(exact\)", result.Stdout);
        Assert.Matches(@"throughput\s+[\d,]+ events/s", result.Stdout);
    }

    [Fact]
    public async Task Target_PushesToARunningExporter_WhichCountsWhatItAccepted()
    {
        await using ExporterProcess exporter = await ExporterProcess.StartAsync("prometheus:\n  collect_interval: 5\n");
        using var home = new TempHome();
        RunResult result = await home.RunAsync("loadtest", "--target", new Uri(exporter.BaseUrl, "/api/v1/events").ToString(),
            "--duration", "2s", "--concurrency", "2", "--batch", "500");
        Assert.True(result.ExitCode == 0, result.All);
        System.Text.RegularExpressions.Match sent = System.Text.RegularExpressions.Regex.Match(result.Stdout, @"\n  events\s+([\d,]+)");
        long events = long.Parse(sent.Groups[1].Value.Replace(",", "", StringComparison.Ordinal), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(events >= 500);
        await Task.Delay(300);
        using var http = new HttpClient();
        string text = await http.GetStringAsync(exporter.MetricsUrl);
        Assert.Equal(events, Exposition.Value(text, "aishell_pipeline_events_received_total{source=\"http\"}"));
    }

    [Fact]
    public async Task Target_AtALowRate_ReportsTheRequestsLatency_NotTheWaitBetweenRequests()
    {
        await using ExporterProcess exporter = await ExporterProcess.StartAsync("prometheus:\n  collect_interval: 5\n");
        using var home = new TempHome();
        // 2 requests per second: the pacer waits about 500 ms before each; a loopback request takes a few ms.
        RunResult result = await home.RunAsync("loadtest", "--target", new Uri(exporter.BaseUrl, "/api/v1/events").ToString(),
            "--duration", "3s", "--concurrency", "1", "--batch", "100", "--rate", "200");
        Assert.True(result.ExitCode == 0, result.All);
        System.Text.RegularExpressions.Match p50 = System.Text.RegularExpressions.Regex.Match(result.Stdout, @"latency p50\s+([\d.]+)ms");
        Assert.True(p50.Success, result.Stdout);
        double ms = double.Parse(p50.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(ms < 250, $"p50 {ms} ms includes the pacing wait:\n{result.Stdout}");
    }

    [Fact]
    public async Task Dsn_AgainstARealPostgres_MovesTheQueryHistogramAndThePoolMetrics()
    {
        PostgresServer server = await PostgresServer.GetAsync();
        int port = ProcessRunner.FreePort();
        using var home = new TempHome();
        var run = ProcessRunner.RunAsync(NativeBinary.Path,
            ["loadtest", "--dsn", server.ConnectionString, "--duration", "4s", "--concurrency", "3", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
             "--mix", "select=70,insert=20,update=10"], home.Env);

        // Scrape the harness's own /metrics while it runs.
        using var http = new HttpClient();
        string text = "";
        for (int attempt = 0; attempt < 30; attempt++)
        {
            await Task.Delay(200);
            try
            {
                text = await http.GetStringAsync($"http://127.0.0.1:{port}/metrics");
                // Every series asserted below: an early scrape can hold INSERTs (20 % of the mix)
                // before the first UPDATE (10 %) completed.
                if (text.Contains("aishell_connections_pool_size{database=\"aishell_test\",source=\"pool\"} 3", StringComparison.Ordinal)
                    && text.Contains("aishell_query_duration_seconds_count{database=\"aishell_test\",type=\"INSERT\"}", StringComparison.Ordinal)
                    && text.Contains("aishell_query_total{database=\"aishell_test\",type=\"UPDATE\",status=\"success\"}", StringComparison.Ordinal)
                    && text.Contains("aishell_connection_wait_seconds_count{database=\"aishell_test\"}", StringComparison.Ordinal))
                {
                    break;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
        }

        RunResult result = await run;
        Assert.True(result.ExitCode == 0, result.All);
        Assert.True(Exposition.Value(text, "aishell_query_duration_seconds_count{database=\"aishell_test\",type=\"SELECT\"}") > 0, text);
        Assert.True(Exposition.Value(text, "aishell_query_total{database=\"aishell_test\",type=\"UPDATE\",status=\"success\"}") > 0);
        Assert.Equal(3, Exposition.Value(text, "aishell_connections_pool_size{database=\"aishell_test\",source=\"pool\"}"));
        Assert.True(Exposition.Value(text, "aishell_connection_wait_seconds_count{database=\"aishell_test\"}") > 0);
        Assert.Matches(@"queries\s+[\d,]+", result.Stdout);
        await Promtool.AssertCleanAsync(text);
    }

    [Theory]
    [InlineData("--synthetic", "--dsn", "x")]
    [InlineData("--synthetic", "--duration", "soon")]
    [InlineData("--synthetic", "--mix", "select=abc")]
    public async Task BadOptions_ExitTwo(params string[] args)
    {
        using var home = new TempHome();
        RunResult result = await home.RunAsync(["loadtest", .. args]);
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("✗", result.Stderr, StringComparison.Ordinal);
    }

    /// <summary>-c is --config in every command, loadtest too (it was also --concurrency there).</summary>
    [Fact]
    public async Task DashC_IsTheConfigFile()
    {
        using var home = new TempHome();
        RunResult result = await home.RunAsync("loadtest", "--synthetic", "-c", "/nonexistent/loadtest.yaml", "--duration", "1s");
        Assert.Equal(2, result.ExitCode);
        Assert.Equal("✗ /nonexistent/loadtest.yaml: config file not found\n", result.Stderr);
    }
}
