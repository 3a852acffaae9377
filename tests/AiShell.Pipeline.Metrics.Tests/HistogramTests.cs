using AiShell.Pipeline.Tests.Shared;
using System.Globalization;
using AiShell.Pipeline.Metrics.Exposition;

namespace AiShell.Pipeline.Metrics.Tests;

public sealed class HistogramTests
{
    private static (MetricRegistry Registry, Series Series) NewHistogram()
    {
        var registry = new MetricRegistry();
        Series series = registry.Register(MetricDescriptor.Histogram("d_seconds", "d", "query_duration", "db")).WithLabels("a");
        return (registry, series);
    }

    [Fact]
    public void Observations_LandInTheFirstBucketWhoseBoundIsNotBelowThem()
    {
        (_, Series s) = NewHistogram(); // bounds 0.01 0.05 0.1 0.5 1 5 10
        s.Observe(0.01);  // exactly on a bound: le is inclusive
        s.Observe(0.011);
        s.Observe(7);
        s.Observe(11);    // above every bound: +Inf only
        s.Observe(double.NaN);
        Assert.Equal(1, s.BucketCount(0));
        Assert.Equal(1, s.BucketCount(1));
        Assert.Equal(1, s.BucketCount(6));
        Assert.Equal(2, s.BucketCount(7));
        Assert.Equal(5, s.Count);
    }

    /// <summary>
    /// The vectorized search reads bounds eight (or four) at a time from an array padded with +Inf:
    /// bucket counts around a vector's width, against the first bound not below each value.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(14)]
    [InlineData(16)]
    [InlineData(17)]
    public void EveryBucketCount_CountsEachValueInTheFirstBucketWhoseBoundIsNotBelowIt(int buckets)
    {
        double[] bounds = [.. Enumerable.Range(1, buckets).Select(i => i * 0.5)];
        var registry = new MetricRegistry(new MetricOptions { BucketSets = new Dictionary<string, double[]> { ["b"] = bounds } });
        Series s = registry.Register(MetricDescriptor.Histogram("b_seconds", "b", "b", "db")).WithLabels("a");
        List<double> values = [double.NaN, double.NegativeInfinity, double.PositiveInfinity, -1, 0];
        foreach (double bound in bounds)
        {
            values.AddRange([bound, Math.BitDecrement(bound), Math.BitIncrement(bound)]);
        }

        var expected = new long[buckets + 1];
        foreach (double value in values)
        {
            int index = Array.FindIndex(bounds, b => value <= b);
            expected[index < 0 ? buckets : index]++;
            s.Observe(value);
        }

        Assert.Equal(expected, Enumerable.Range(0, buckets + 1).Select(i => s.BucketCount(i)));
    }

    [Fact]
    public void Exposition_BucketsAreCumulative_IncreasingLe_InfEqualsCount()
    {
        (MetricRegistry registry, Series s) = NewHistogram();
        foreach (double v in new[] { 0.001, 0.2, 0.2, 3, 30 })
        {
            s.Observe(v);
        }

        string[] lines = TestRegistries.Render(registry, ExpositionFormat.Text).Split('\n');
        var buckets = lines.Where(l => l.StartsWith("aishell_d_seconds_bucket", StringComparison.Ordinal)).ToArray();
        Assert.Equal(8, buckets.Length);
        Assert.EndsWith("le=\"+Inf\"} 5", buckets[^1], StringComparison.Ordinal);
        double previousLe = double.NegativeInfinity;
        long previousCount = 0;
        foreach (string line in buckets)
        {
            string le = line[(line.IndexOf("le=\"", StringComparison.Ordinal) + 4)..line.IndexOf("\"}", StringComparison.Ordinal)];
            double bound = le == "+Inf" ? double.PositiveInfinity : double.Parse(le, CultureInfo.InvariantCulture);
            long count = long.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            Assert.True(bound > previousLe);
            Assert.True(count >= previousCount);
            previousLe = bound;
            previousCount = count;
        }

        Assert.Contains("aishell_d_seconds_count{db=\"a\"} 5", lines);
        string sum = lines.Single(l => l.StartsWith("aishell_d_seconds_sum{db=\"a\"} ", StringComparison.Ordinal));
        Assert.Equal(33.401, double.Parse(sum[(sum.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture), 9);
    }

    [Fact]
    public async Task ConcurrentObservations_NeverProduceAScrapeWhereInfDiffersFromCount()
    {
        (MetricRegistry registry, Series s) = NewHistogram();
        s.Observe(1);
        using var cts = new CancellationTokenSource();
        Task writer = Task.Run(() =>
        {
            int i = 0;
            while (!cts.IsCancellationRequested && i < 50_000_000)
            {
                s.Observe(i++ % 13);
            }
        });

        var buffer = new ScrapeBuffer();
        for (int scrape = 0; scrape < 300; scrape++)
        {
            buffer.Reset();
            ExpositionWriter.Write(buffer, registry, ExpositionFormat.Text);
            string text = System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
            string inf = text.Split('\n').Single(l => l.Contains("le=\"+Inf\"", StringComparison.Ordinal));
            string count = text.Split('\n').Single(l => l.StartsWith("aishell_d_seconds_count", StringComparison.Ordinal));
            Assert.Equal(inf[(inf.LastIndexOf(' ') + 1)..], count[(count.LastIndexOf(' ') + 1)..]);
        }

        await cts.CancelAsync();
        await writer;
    }

    [Fact]
    public void AFamilyDeclaredShared_ObservedFromManyThreads_CountsEveryObservation()
    {
        var registry = new MetricRegistry();
        Series s = registry.Register(MetricDescriptor.Histogram("d_seconds", "d", "query_duration", "db") with { SharedWrites = true }).WithLabels("a");
        Parallel.For(0, 8, _ =>
        {
            for (int i = 0; i < 10_000; i++)
            {
                s.Observe(0.5);
            }
        });
        Assert.Equal(80_000, s.Count);
        Assert.Equal(40_000, s.Sum);
    }

    [Fact]
    public void AFamilyDeclaredShared_AddedFromManyThreads_CountsEveryIncrement()
    {
        var registry = new MetricRegistry();
        Series s = registry.Register(MetricDescriptor.Counter("c_total", "c") with { SharedWrites = true }).WithLabels();
        Parallel.For(0, 8, _ =>
        {
            for (int i = 0; i < 10_000; i++)
            {
                s.Add(1);
            }
        });
        Assert.Equal(80_000, s.Value);
    }

    [Fact]
    public void ASummary_CannotBeDeclaredShared()
    {
        var registry = new MetricRegistry();
        var descriptor = MetricDescriptor.Summary("s", "s", [0.5], TimeSpan.FromMinutes(1)) with { SharedWrites = true };
        Assert.Contains("summary", Assert.Throws<ArgumentException>(() => registry.Register(descriptor)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Buckets_MustIncrease()
    {
        var registry = new MetricRegistry();
        var descriptor = new MetricDescriptor("b", "b", MetricType.Histogram, [], Buckets: [1, 1]);
        Assert.Throws<ArgumentException>(() => registry.Register(descriptor));
    }
}
