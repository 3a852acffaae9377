using AiShell.Pipeline.Metrics.Exposition;
using AiShell.Pipeline.Metrics.Pipeline;

namespace AiShell.Pipeline.Metrics.Tests;

public sealed class StaleAndWeightedTests
{
    [Fact]
    public void Clear_HidesTheSeries_UntilWrittenAgain_WithoutLosingCounterState()
    {
        var registry = new MetricRegistry();
        Series s = registry.Register(MetricDescriptor.Counter("c_total", "c", "t")).WithLabels("a");
        s.Add(5);
        s.Clear();
        Assert.DoesNotContain("aishell_c_total", TestRegistries.Render(registry, ExpositionFormat.Text), StringComparison.Ordinal);
        s.Add(1);
        Assert.Contains("aishell_c_total{t=\"a\"} 6\n", TestRegistries.Render(registry, ExpositionFormat.Text), StringComparison.Ordinal);
    }

    [Fact]
    public void ObserveMany_PutsTheCountInTheMeansBucket_AndAddsTheSum()
    {
        var registry = new MetricRegistry();
        Series h = registry.Register(MetricDescriptor.Histogram("d", "d", "query_duration")).WithLabels();
        var builder = new SampleBatchBuilder("t", 1);
        builder.ObserveMany(h, value: 0.07, count: 40, sum: 2.8);
        foreach (SampleBatch b in builder.Build())
        {
            b.Fold();
            b.Release();
        }

        Assert.Equal(40, h.BucketCount(2)); // 0.05 < 0.07 <= 0.1
        Assert.Equal(40, h.Count);
        Assert.Equal(2.8, h.Sum, 12);
    }

    [Fact]
    public void DatabaseLabels_AreAddedToSeriesOfThatDatabase_Only()
    {
        var registry = new MetricRegistry(new MetricOptions
        {
            DatabaseLabels = new Dictionary<string, IReadOnlyList<KeyValuePair<string, string>>>
            {
                ["app1"] = [new("team", "billing")],
            },
        });
        MetricFamily up = registry.Register(MetricDescriptor.Gauge("up", "u", "database"));
        up.WithLabels("app1").Set(1);
        up.WithLabels("app2").Set(0);
        string text = TestRegistries.Render(registry, ExpositionFormat.Text);
        Assert.Contains("aishell_up{database=\"app1\",team=\"billing\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("aishell_up{database=\"app2\"} 0\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void DatabaseLabel_ClashingWithAFamilyLabel_IsRejected()
    {
        var registry = new MetricRegistry(new MetricOptions
        {
            DatabaseLabels = new Dictionary<string, IReadOnlyList<KeyValuePair<string, string>>> { ["a"] = [new("type", "x")] },
        });
        Assert.Throws<ArgumentException>(() => registry.Register(TestRegistries.Queries));
    }
}
