using AiShell.Pipeline.Tests.Shared;

namespace AiShell.Pipeline.Metrics.Tests;

public sealed class RegistryTests
{
    [Fact]
    public void SameLabelValues_ResolveToTheSameSeries_AndDistinctOnesToNew()
    {
        var registry = new MetricRegistry();
        MetricFamily family = registry.Register(TestRegistries.Queries);
        Series a = family.WithLabels("db", "SELECT", "success");
        Assert.Same(a, family.WithLabels("db", "SELECT", "success"));
        Assert.NotSame(a, family.WithLabels("db", "SELECT", "error"));
        Assert.Equal(2, family.Count);
        Assert.NotEqual(a.Ordinal, family.WithLabels("db", "SELECT", "error").Ordinal);
    }

    [Fact]
    public void WrongNumberOfLabelValues_Throws()
    {
        MetricFamily family = new MetricRegistry().Register(TestRegistries.Queries);
        Assert.Throws<ArgumentException>(() => family.WithLabels("only-one"));
    }

    [Fact]
    public void RegisteringTheSameSchemaTwice_ReturnsTheFamily_ButAConflictingOneThrows()
    {
        var registry = new MetricRegistry();
        MetricFamily first = registry.Register(TestRegistries.Queries);
        Assert.Same(first, registry.Register(TestRegistries.Queries));
        Assert.Throws<ArgumentException>(() => registry.Register(MetricDescriptor.Gauge("query_total", "x", "database")));
    }

    [Fact]
    public void Prefix_IsApplied_AndValidated()
    {
        var registry = new MetricRegistry(new MetricOptions { Prefix = "myshell" });
        Assert.Equal("myshell_query_total", registry.Register(TestRegistries.Queries).Name);
        Assert.Throws<ArgumentException>(() => new MetricRegistry(new MetricOptions { Prefix = "bad-prefix" }));
    }

    [Fact]
    public void ConstantLabel_ClashingWithAFamilyLabel_IsRejected()
    {
        var registry = new MetricRegistry(new MetricOptions { ConstantLabels = [new("database", "x")] });
        Assert.Throws<ArgumentException>(() => registry.Register(TestRegistries.Queries));
    }

    [Fact]
    public void SeriesCreatedWhileReading_AreSeenByLaterSnapshots()
    {
        var registry = new MetricRegistry();
        MetricFamily family = registry.Register(MetricDescriptor.Gauge("g", "g", "i"));
        Parallel.For(0, 4, t =>
        {
            for (int i = 0; i < 500; i++)
            {
                family.WithLabels($"{t}-{i}").Set(i);
            }
        });
        Assert.Equal(2000, family.Count);
        Assert.Equal(2000, family.AllSeries().Length);
        Assert.Equal(2000, registry.SeriesCount);
    }

    [Fact]
    public void SeriesNeverWritten_IsNotExposed_SoNothingInventsAZero()
    {
        var registry = new MetricRegistry();
        MetricFamily family = registry.Register(MetricDescriptor.Gauge("maybe", "m", "k"));
        family.WithLabels("resolved-but-unset");
        Assert.Equal("", TestRegistries.Render(registry, Exposition.ExpositionFormat.Text));
        family.WithLabels("set").Set(0);
        Assert.Equal("# HELP aishell_maybe m\n# TYPE aishell_maybe gauge\naishell_maybe{k=\"set\"} 0\n",
            TestRegistries.Render(registry, Exposition.ExpositionFormat.Text));
    }
}
