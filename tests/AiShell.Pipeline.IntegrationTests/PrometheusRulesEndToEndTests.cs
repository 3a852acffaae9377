using System.Text;
using System.Text.Json;
using AiShell.Pipeline.IntegrationTests.Harness;

namespace AiShell.Pipeline.IntegrationTests;

/// <summary>
/// A real Prometheus scrapes the native binary every second with the generated rules loaded while
/// events arrive: the integration guide's queries and the recording rules return data, and an alert fires.
/// </summary>
public sealed class PrometheusRulesEndToEndTests
{
    [Fact]
    public async Task SeedQueries_RecordingRules_AndAnAlert_WorkAgainstLiveData()
    {
        await using ExporterProcess exporter = await ExporterProcess.StartAsync("prometheus:\n  collect_interval: 1\n");
        string rulesDir = Path.Combine(exporter.Home, "rules");
        RunResult export = await ProcessRunner.RunAsync(NativeBinary.Path, ["prometheus", "export-rules", "--output-dir", rulesDir], ExporterProcess.Env(exporter.Home));
        Assert.True(export.ExitCode == 0, export.All);

        // The generated rules wait minutes (for: 5m); this one fires at once, on the same live data.
        string testAlert = Path.Combine(rulesDir, "test_alert.yml");
        await File.WriteAllTextAsync(testAlert, """
            groups:
              - name: aishell_e2e
                interval: 1s
                rules:
                  - alert: AishellQueriesFlowing
                    expr: sum by (database) (rate(aishell_query_total[1m])) > 0
                    labels:
                      severity: info
            """);

        using var events = new CancellationTokenSource();
        using var http = new HttpClient();
        var eventsUrl = new Uri(exporter.BaseUrl, "/api/v1/events");
        Task feeder = Task.Run(async () =>
        {
            var body = new StringBuilder();
            for (int i = 0; i < 50; i++)
            {
                body.Append("{\"kind\":\"query\",\"database\":\"app1\",\"type\":\"SELECT\",\"status\":\"success\",\"duration_seconds\":0.02}\n");
            }

            body.Append("{\"kind\":\"query\",\"database\":\"app1\",\"type\":\"UPDATE\",\"status\":\"error\",\"duration_seconds\":0.2,\"error\":\"40001\"}\n");
            body.Append("{\"kind\":\"connection\",\"database\":\"app1\",\"active\":7,\"pool_size\":20}\n");
            while (!events.IsCancellationRequested)
            {
                await http.PostAsync(eventsUrl, new StringContent(body.ToString()));
                await Task.Delay(250);
            }
        });

        try
        {
            await using PrometheusServer prometheus = await PrometheusServer.StartAsync(exporter.MetricsUrl.Authority,
                Path.Combine(rulesDir, "alerts.yml"), Path.Combine(rulesDir, "recording_rules.yml"), testAlert);
            TimeSpan patience = TimeSpan.FromSeconds(60);
            foreach (string query in new[]
            {
                "rate(aishell_query_total[1m])",
                "histogram_quantile(0.95, rate(aishell_query_duration_seconds_bucket[1m]))",
                "aishell_connections_active / aishell_connections_pool_size",
                "aishell:query_rate:5m",
                "aishell:error_rate:5m",
                "aishell:connection_utilization",
            })
            {
                await prometheus.WaitUntilAsync(async () => (await prometheus.QueryAsync(query)).Count > 0, $"`{query}` returns data", patience);
            }

            Assert.Equal(0.35, Assert.Single(await prometheus.QueryAsync("aishell:connection_utilization")), 9);
            await prometheus.WaitUntilAsync(async () =>
            {
                JsonElement alerts = (await prometheus.ApiAsync("/api/v1/alerts")).GetProperty("alerts");
                return alerts.EnumerateArray().Any(a =>
                    a.GetProperty("labels").GetProperty("alertname").GetString() == "AishellQueriesFlowing"
                    && a.GetProperty("state").GetString() == "firing");
            }, "the test alert fires", patience);

            JsonElement groups = (await prometheus.ApiAsync("/api/v1/rules")).GetProperty("groups");
            string[] names = groups.EnumerateArray().Select(g => g.GetProperty("name").GetString()!).ToArray();
            Assert.Contains("aishell_performance", names);
            Assert.Contains("aishell_resources", names);
            Assert.Contains("aishell_slo", names);
            Assert.Contains("aishell_aggregations", names);
            foreach (JsonElement rule in groups.EnumerateArray().SelectMany(g => g.GetProperty("rules").EnumerateArray()))
            {
                // "unknown" until a group's first evaluation (aishell_slo runs every 5 minutes); never "err".
                Assert.NotEqual("err", rule.GetProperty("health").GetString());
                Assert.True(string.IsNullOrEmpty(rule.TryGetProperty("lastError", out JsonElement e) ? e.GetString() : null), rule.GetRawText());
            }

            Assert.Contains(groups.EnumerateArray().Single(g => g.GetProperty("name").GetString() == "aishell_aggregations")
                .GetProperty("rules").EnumerateArray(), r => r.GetProperty("health").GetString() == "ok");
        }
        finally
        {
            await events.CancelAsync();
            await feeder;
        }
    }
}
