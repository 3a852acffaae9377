using System.Text.Json;
using System.Text.RegularExpressions;
using AiShell.Pipeline.IntegrationTests.Harness;
using AiShell.Pipeline.Metrics;

namespace AiShell.Pipeline.IntegrationTests;

/// <summary>The exported Grafana dashboard: every expression parses in a real Prometheus and names only real metrics.</summary>
public sealed partial class DashboardTests
{
    [GeneratedRegex(@"\baishell[_:][a-zA-Z0-9_:]*")]
    private static partial Regex MetricName();

    [Fact]
    public async Task ExportDashboard_EveryExpressionParses_AndNamesOnlyCatalogOrRecordedMetrics()
    {
        using var home = new TempHome();
        string file = Path.Combine(home.Path, "aishell-dashboard.json");
        string rulesDir = Path.Combine(home.Path, "rules");
        Assert.Equal(0, (await home.RunAsync("prometheus", "export-dashboard", "--output", file)).ExitCode);
        Assert.Equal(0, (await home.RunAsync("prometheus", "export-rules", "--output-dir", rulesDir)).ExitCode);

        using JsonDocument doc = JsonDocument.Parse(await File.ReadAllTextAsync(file));
        JsonElement dashboard = doc.RootElement.GetProperty("dashboard"); // the integration guide's POST /api/dashboards/db body
        Assert.True(doc.RootElement.GetProperty("overwrite").GetBoolean());
        var variables = dashboard.GetProperty("templating").GetProperty("list").EnumerateArray().ToList();
        Assert.Contains(variables, v => v.GetProperty("type").GetString() == "datasource" && v.GetProperty("query").GetString() == "prometheus");
        Assert.Contains(variables, v => v.GetProperty("name").GetString() == "database");

        var expressions = new List<string>();
        var titles = new List<string>();
        foreach (JsonElement panel in dashboard.GetProperty("panels").EnumerateArray())
        {
            titles.Add(panel.GetProperty("title").GetString()!);
            if (panel.TryGetProperty("targets", out JsonElement targets))
            {
                expressions.AddRange(targets.EnumerateArray().Select(t => t.GetProperty("expr").GetString()!));
            }
        }

        foreach (string seedPanel in new[] { "QPS", "Average latency", "Error rate", "Active connections", "Latency p50 / p95 / p99",
                     "Slow query rate", "Cache hit rate", "CPU usage", "Memory usage", "Disk writes", "Pool utilisation", "Database growth" })
        {
            Assert.Contains(seedPanel, titles);
        }

        // Names: the catalog's families (with their _bucket/_sum/_count samples) and the recording rules.
        var known = new HashSet<string>(StringComparer.Ordinal);
        foreach (MetricDescriptor d in MetricCatalog.All)
        {
            string name = "aishell_" + d.Name;
            known.Add(name);
            known.UnionWith([name + "_bucket", name + "_sum", name + "_count"]);
        }

        string recording = await File.ReadAllTextAsync(Path.Combine(rulesDir, "recording_rules.yml"));
        known.UnionWith(Regex.Matches(recording, @"record: (\S+)").Select(m => m.Groups[1].Value));
        string variableQuery = variables.Single(v => v.GetProperty("name").GetString() == "database").GetProperty("query").GetString()!;
        foreach (string expr in expressions.Append(variableQuery))
        {
            foreach (Match m in MetricName().Matches(expr))
            {
                Assert.True(known.Contains(m.Value), $"'{m.Value}' in `{expr}` is neither a catalog metric nor a recording rule");
            }
        }

        // Syntax: a real Prometheus must accept every expression ($database as its All value).
        await using PrometheusServer prometheus = await PrometheusServer.StartAsync("127.0.0.1:1");
        using var http = new HttpClient();
        foreach (string expr in expressions)
        {
            string query = expr.Replace("$database", ".*", StringComparison.Ordinal);
            HttpResponseMessage response = await http.GetAsync(new Uri(prometheus.Url, "/api/v1/query?query=" + Uri.EscapeDataString(query)));
            Assert.True(response.IsSuccessStatusCode, $"Prometheus rejected `{query}`: {await response.Content.ReadAsStringAsync()}");
        }
    }

    [Fact]
    public async Task ModelFormat_IsTheBareDashboard_ForImportAndProvisioning()
    {
        using var home = new TempHome();
        string file = Path.Combine(home.Path, "model.json");
        Assert.Equal(0, (await home.RunAsync("prometheus", "export-dashboard", "-o", file, "--format", "model")).ExitCode);
        using JsonDocument doc = JsonDocument.Parse(await File.ReadAllTextAsync(file));
        Assert.Equal("aishell-overview", doc.RootElement.GetProperty("uid").GetString());
        Assert.False(doc.RootElement.TryGetProperty("dashboard", out _));
        RunResult bad = await home.RunAsync("prometheus", "export-dashboard", "-o", file, "--format", "xml");
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("xml", bad.Stderr, StringComparison.Ordinal);
    }
}
