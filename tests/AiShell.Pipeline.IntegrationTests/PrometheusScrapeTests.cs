using System.Text.Json;
using AiShell.Pipeline.IntegrationTests.Harness;

namespace AiShell.Pipeline.IntegrationTests;

/// <summary>
/// A real Prometheus scrapes the native binary. Prometheus 2.x asks for OpenMetrics first, so this
/// proves a real consumer parses our OpenMetrics output (promtool check metrics reads 0.0.4 only).
/// </summary>
public sealed class PrometheusScrapeTests
{
    [Fact]
    public async Task RealPrometheus_ScrapesTheBinary_OverOpenMetrics_WithoutErrors_AndQueriesSeedMetrics()
    {
        await using ExporterProcess exporter = await ExporterProcess.StartAsync("prometheus:\n  collect_interval: 1\n");
        using (var http = new HttpClient())
        {
            // A traced query: its exemplar must survive a real OpenMetrics scrape.
            HttpResponseMessage posted = await http.PostAsync(new Uri(exporter.BaseUrl, "/api/v1/events"), new StringContent(
                "{\"kind\":\"query\",\"database\":\"app1\",\"type\":\"SELECT\",\"duration_seconds\":0.067,\"trace_id\":\"4bf92f3577b34da6\"}\n"));
            Assert.Equal(System.Net.HttpStatusCode.Accepted, posted.StatusCode);
        }

        await using PrometheusServer prometheus = await PrometheusServer.StartAsync(exporter.MetricsUrl.Authority);

        string lastError = "";
        await prometheus.WaitUntilAsync(async () =>
        {
            JsonElement targets = (await prometheus.ApiAsync("/api/v1/targets")).GetProperty("activeTargets");
            if (targets.GetArrayLength() == 0)
            {
                return false; // service discovery has not handed the target over yet
            }

            JsonElement target = targets[0];
            lastError = target.GetProperty("lastError").GetString() ?? "";
            return target.GetProperty("health").GetString() == "up" && lastError.Length == 0;
        }, "the target is up", TimeSpan.FromSeconds(30));
        Assert.Equal("", lastError);

        await prometheus.WaitUntilAsync(async () => (await prometheus.QueryAsync("rate(aishell_disk_reads_total[5s])")).Count > 0,
            "a rate over a counter has data", TimeSpan.FromSeconds(30));
        Assert.NotEmpty(await prometheus.QueryAsync("aishell_network_bytes_received"));
        Assert.Equal([1.0], await prometheus.QueryAsync("aishell_collector_up{collector=\"host\"}"));
        List<double> memoryPercent = await prometheus.QueryAsync(
            "(aishell_memory_usage_bytes / (aishell_memory_usage_bytes + aishell_memory_available_bytes)) * 100");
        Assert.InRange(Assert.Single(memoryPercent), 0.0, 100.0);

        // The exemplar reached Prometheus's exemplar storage, on the bucket the query fell in.
        string exemplars = "";
        await prometheus.WaitUntilAsync(async () =>
        {
            JsonElement data = await prometheus.ApiAsync("/api/v1/query_exemplars?query=aishell_query_duration_seconds_bucket&start=0&end=9999999999");
            exemplars = data.GetRawText();
            return exemplars.Contains("4bf92f3577b34da6", StringComparison.Ordinal);
        }, "the exemplar is stored", TimeSpan.FromSeconds(20));
        Assert.Contains("\"le\":\"0.1\"", exemplars, StringComparison.Ordinal);

        // The scrapes Prometheus made were OpenMetrics, and it parsed them (health up, no lastError).
        List<double> omScrapes = await prometheus.QueryAsync("aishell_exporter_scrapes_total{format=\"openmetrics\"}");
        Assert.True(Assert.Single(omScrapes) >= 1);
    }
}
