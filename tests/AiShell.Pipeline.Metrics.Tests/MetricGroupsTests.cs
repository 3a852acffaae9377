using AiShell.Pipeline.Tests.Shared;
using AiShell.Pipeline.Metrics.Exposition;
using AiShell.Pipeline.Metrics.Flow;

namespace AiShell.Pipeline.Metrics.Tests;

public sealed class MetricGroupsTests
{
    [Fact]
    public async Task AGroupSwitchedOff_LeavesTheScrape_KeepsItsValues_AndHidesFamiliesRegisteredLater()
    {
        var registry = new MetricRegistry();
        registry.Register(MetricCatalog.QueryTotal).WithLabels("app", "SELECT", "success").Add(5);
        registry.Register(MetricCatalog.FeatureUsageTotal).WithLabels("nl2sql").Add(1);
        var groups = new MetricGroups();

        groups.Apply(registry, queries: false, connections: false, performance: true);
        registry.Register(MetricCatalog.ConnectionsActive).WithLabels("app", "server").Set(3); // a collector added by a reload
        string off = TestRegistries.Render(registry, ExpositionFormat.Text);
        Assert.DoesNotContain("aishell_query_total", off, StringComparison.Ordinal);
        Assert.DoesNotContain("aishell_connections_active", off, StringComparison.Ordinal);
        Assert.Contains("aishell_feature_usage_total{feature=\"nl2sql\"} 1\n", off, StringComparison.Ordinal);
        Assert.False(groups.IsOn(MetricGroup.Queries));
        Assert.True(groups.IsOn(MetricGroup.Performance));

        using var parallel = new ParallelScrapeWriter(helpers: 1, minSeries: 1);
        var buffer = new ScrapeBuffer();
        using var sink = new MemoryStream();
        await parallel.WriteAsync(buffer, registry, ExpositionFormat.Text, sink, 1 << 20, CancellationToken.None);
        Assert.DoesNotContain("aishell_query_total", System.Text.Encoding.UTF8.GetString([.. sink.ToArray(), .. buffer.WrittenSpan]), StringComparison.Ordinal);

        groups.Apply(registry, queries: true, connections: true, performance: true);
        string on = TestRegistries.Render(registry, ExpositionFormat.Text);
        Assert.Contains("aishell_query_total{database=\"app\",type=\"SELECT\",status=\"success\"} 5\n", on, StringComparison.Ordinal);
        Assert.Contains("aishell_connections_active{database=\"app\",source=\"server\"} 3\n", on, StringComparison.Ordinal);
    }
}
