using AiShell.Pipeline.IntegrationTests.Harness;

namespace AiShell.Pipeline.IntegrationTests;

/// <summary>
/// A real DogStatsD client, hot-shots from npm (tests/clients, installed by test.sh), sends to the
/// native binary: a sampled timing, counters with and without a rate, a histogram, a sampled
/// distribution and gauge deltas. Every count and sum is checked exactly.
/// </summary>
public sealed class HotShotsTests
{
    [Fact]
    public async Task HotShots_SampledTimingsCountsHistogramsDistributionsAndGaugeDeltas_FoldExactly()
    {
        string clients = Path.Combine(NativeBinary.RepoRoot, "tests", "clients");
        Assert.True(Directory.Exists(Path.Combine(clients, "node_modules", "hot-shots")), "hot-shots is not installed: run ./test.sh (npm ci in tests/clients)");
        int udpPort = IngestTests.FreeUdpPort();
        await using ExporterProcess exporter = await ExporterProcess.StartAsync($"""
            prometheus:
              collect_interval: 5
              ingest:
                udp_port: {udpPort}
              custom_metrics:
                - name: business_transactions
                  type: counter
                  help: "Business transactions"
                  labels: [type, status]
                - name: revenue
                  type: gauge
                  help: "Revenue"
                  labels: [product]
                - name: latency
                  type: histogram
                  help: "Latency"
                  labels: [route]
                  buckets: [0.1, 1, 10]
            """);

        const int N = 200;
        RunResult sent = await ProcessRunner.RunAsync("node", [Path.Combine(clients, "hot-shots.js"), udpPort.ToString(System.Globalization.CultureInfo.InvariantCulture), N.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        Assert.True(sent.ExitCode == 0, sent.All);

        using var http = new HttpClient();
        string text = "";
        for (int attempt = 0; attempt < 50 && !text.Contains("aishell_revenue{product=\"p\"} 11\n", StringComparison.Ordinal); attempt++)
        {
            await Task.Delay(100);
            text = await http.GetStringAsync(exporter.MetricsUrl);
        }

        Assert.Equal(0, Exposition.Sum(text, "aishell_pipeline_events_rejected_total{source=\"udp\""));
        Assert.Equal(4 * N, Exposition.Value(text, "aishell_query_total{database=\"hs\",type=\"SELECT\",status=\"success\"}"));
        Assert.Equal(4 * N, Exposition.Value(text, "aishell_query_duration_seconds_count{database=\"hs\",type=\"SELECT\"}"));
        Assert.Equal(4 * N * 0.1, Exposition.Value(text, "aishell_query_duration_seconds_sum{database=\"hs\",type=\"SELECT\"}"), 6);
        Assert.Equal(N, Exposition.Value(text, "aishell_business_transactions_total{type=\"card\",status=\"ok\"}"));
        Assert.Equal(10 * N, Exposition.Value(text, "aishell_feature_usage_total{feature=\"hot-shots\"}"), 6);
        Assert.Equal(N, Exposition.Value(text, "aishell_latency_count{route=\"h\"}"));
        Assert.Equal(N * 0.25, Exposition.Value(text, "aishell_latency_sum{route=\"h\"}"), 6);
        Assert.Equal(2 * N, Exposition.Value(text, "aishell_latency_count{route=\"d\"}"));
        Assert.Equal(2 * N * 2.0, Exposition.Value(text, "aishell_latency_sum{route=\"d\"}"), 6);
        Assert.Equal(2 * N, Exposition.Value(text, "aishell_latency_bucket{route=\"d\",le=\"10\"}") - Exposition.Value(text, "aishell_latency_bucket{route=\"d\",le=\"1\"}"));
        Assert.Equal(11, Exposition.Value(text, "aishell_revenue{product=\"p\"}"));
        await Promtool.AssertCleanAsync(text);
    }
}
