using AiShell.Pipeline.Tests.Shared;
using AiShell.Pipeline.Metrics.Exposition;
using AiShell.Pipeline.Metrics.Flow;

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
        builder.ObserveMany(h, count: 40, sum: 2.8); // mean 0.07
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

public sealed class CardinalityTests
{
    [Fact]
    public void BeyondTheLimit_NewLabelSetsFoldIntoOneOverflowSeries_AndAreCounted()
    {
        var registry = new MetricRegistry(new MetricOptions { SeriesLimit = 3 });
        MetricFamily family = registry.Register(MetricDescriptor.Counter("events_total", "e", "user"));
        for (int i = 0; i < 1000; i++)
        {
            family.WithLabels("u" + i).Add(1);
        }

        Assert.Equal(4, family.Count); // three real series and the overflow one
        Assert.Equal(997, family.WithLabels(MetricFamily.OverflowValue).Value);
        Assert.Equal(1, family.WithLabels("u0").Value); // existing sets keep working
        string text = TestRegistries.Render(registry, Exposition.ExpositionFormat.Text);
        Assert.Contains("aishell_pipeline_series_overflow_total{family=\"aishell_events_total\"} 997\n", text, StringComparison.Ordinal);
        Assert.Contains("aishell_events_total{user=\"__overflow__\"} 997\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void DropLabels_RemovesTheLabelFromTheSchema_AndMergesWhatItDistinguished()
    {
        var registry = new MetricRegistry(new MetricOptions { DropLabels = ["user_id", "session_id"] });
        MetricFamily family = registry.Register(MetricDescriptor.Counter("clicks_total", "c", "page", "user_id"));
        Assert.Equal(["page"], family.LabelNames);
        family.WithLabels("home", "alice").Add(1);
        family.WithLabels("home", "bob").Add(1);
        Assert.Equal(1, family.Count);
        Assert.Contains("aishell_clicks_total{page=\"home\"} 2\n", TestRegistries.Render(registry, Exposition.ExpositionFormat.Text), StringComparison.Ordinal);
    }
}

public sealed class ExemplarTests
{
    [Fact]
    public void Exemplar_AppearsOnItsBucket_InOpenMetricsOnly()
    {
        var registry = new MetricRegistry();
        Series h = registry.Register(MetricDescriptor.Histogram("q_seconds", "q", "query_duration", "db")).WithLabels("app1");
        h.Observe(0.067);
        h.SetExemplar(0.067, Exemplar.Create("trace_id", "abc-123", 0.067, DateTimeOffset.FromUnixTimeMilliseconds(1_764_000_000_123)));
        string om = TestRegistries.Render(registry, Exposition.ExpositionFormat.OpenMetrics);
        Assert.Contains("aishell_q_seconds_bucket{db=\"app1\",le=\"0.1\"} 1 # {trace_id=\"abc-123\"} 0.067 1764000000.123\n", om, StringComparison.Ordinal);
        Assert.Contains("aishell_q_seconds_bucket{db=\"app1\",le=\"0.05\"} 0\n", om, StringComparison.Ordinal);
        Assert.DoesNotContain("trace_id", TestRegistries.Render(registry, Exposition.ExpositionFormat.Text), StringComparison.Ordinal);
    }

    [Fact]
    public void SerializingWithExemplars_StillAllocatesNothing()
    {
        var registry = new MetricRegistry();
        MetricFamily family = registry.Register(MetricDescriptor.Histogram("q_seconds", "q", "query_duration", "db"));
        for (int i = 0; i < 100; i++)
        {
            Series h = family.WithLabels("db" + i);
            h.Observe(0.3);
            h.SetExemplar(0.3, Exemplar.Create("trace_id", "t" + i, 0.3, DateTimeOffset.UnixEpoch));
        }

        var buffer = new Exposition.ScrapeBuffer();
        long allocated = Allocations.Least(() =>
        {
            buffer.Reset();
            Exposition.ExpositionWriter.Write(buffer, registry, Exposition.ExpositionFormat.OpenMetrics);
        });
        Assert.Equal(0, allocated);
        Assert.Contains("trace_id=\"t99\"", System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan), StringComparison.Ordinal); // the exemplars were written
    }
}
