using AiShell.Pipeline.Tests.Shared;
using AiShell.Pipeline.Metrics.Exposition;

namespace AiShell.Pipeline.Metrics.Tests;

public sealed class SummaryTests
{
    /// <summary>A clock the test moves by hand.</summary>
    private sealed class ManualTime : TimeProvider
    {
        public long Ticks { get; set; } = 1_000_000;

        public override long GetTimestamp() => Ticks;

        public override long TimestampFrequency => 1_000_000;

        public void Advance(TimeSpan by) => Ticks += (long)(by.TotalSeconds * TimestampFrequency);
    }

    private static (MetricRegistry, Series, ManualTime) NewSummary()
    {
        var time = new ManualTime();
        var registry = new MetricRegistry(new MetricOptions { Time = time });
        Series s = registry.Register(MetricDescriptor.Summary("d_summary", "d", [0.5, 0.9, 0.99], TimeSpan.FromMinutes(1), "database")).WithLabels("app1");
        return (registry, s, time);
    }

    [Fact]
    public void Quantiles_AreWithinTheBucketPrecision()
    {
        (_, Series s, _) = NewSummary();
        for (int i = 1; i <= 1000; i++)
        {
            s.Observe(i / 1000.0); // 1 ms .. 1 s, uniform
        }

        // The stated precision: within 1/32 (3.1%) of the true quantile, plus one observation's step.
        Assert.InRange(s.Quantile(0.5), 0.499 * (1 - (1 / 32.0)), 0.501 * (1 + (1 / 32.0)));
        Assert.InRange(s.Quantile(0.9), 0.899 * (1 - (1 / 32.0)), 0.901 * (1 + (1 / 32.0)));
        Assert.InRange(s.Quantile(0.99), 0.989 * (1 - (1 / 32.0)), 0.991 * (1 + (1 / 32.0)));
        Assert.Equal(1000, s.SummaryCount);
        Assert.Equal(500.5, s.Sum, 6);
    }

    [Theory]
    [InlineData(0.95367431640625e-6)] // 2^-20 s, the lowest value covered
    [InlineData(0.00123)]
    [InlineData(0.5)]
    [InlineData(1.0)]
    [InlineData(7.77)]
    [InlineData(3600.0)]
    [InlineData(4194303.0)] // just under 2^22 s, the highest covered
    public void ASingleValuesQuantile_IsWithinAThirtySecondOfIt(double value)
    {
        (_, Series s, _) = NewSummary();
        s.Observe(value);
        Assert.InRange(s.Quantile(0.5), value * (1 - (1 / 32.0)), value * (1 + (1 / 32.0)));
    }

    /// <summary>Outside the covered range a quantile reads the edge it passed: 0 below, 2^22 s above.</summary>
    [Theory]
    [InlineData(0.0, 0.0)]
    [InlineData(1e-9, 0.0)]
    [InlineData(0.9e-6, 0.0)]
    [InlineData(4194304.0, 4194304.0)]
    [InlineData(5e6, 4194304.0)]
    [InlineData(1e300, 4194304.0)]
    public void OutsideTheRange_AQuantileReadsTheEdge(double value, double expected)
    {
        (_, Series s, _) = NewSummary();
        s.Observe(value);
        Assert.Equal(expected, s.Quantile(0.99));
    }

    [Fact]
    public void AReusedSlot_ForgetsWhatItHeld_AndQuantilesFromOnePassMatchOneByOne()
    {
        (_, Series s, ManualTime time) = NewSummary();
        s.Observe(100.0); // lands in the first slot only
        for (int step = 0; step < 7; step++)
        {
            time.Advance(TimeSpan.FromSeconds(10)); // one slot per step: the first slot is reused
            s.Observe(0.01 * (step + 1));
        }

        Assert.InRange(s.Quantile(0.99), 0.07 * (1 - (1 / 32.0)), 0.07 * (1 + (1 / 32.0)));
        double[] qs = [0.5, 0.9, 0.99];
        double[] together = new double[3];
        s.Quantiles(qs, together);
        Assert.Equal([s.Quantile(0.5), s.Quantile(0.9), s.Quantile(0.99)], together);
    }

    [Fact]
    public void ARepeatedScrape_SeesObservationsMadeSinceTheLastOne()
    {
        (_, Series s, _) = NewSummary();
        double[] qs = [0.5, 0.99];
        double[] first = new double[2], second = new double[2];
        s.Observe(0.01);
        s.Quantiles(qs, first);
        s.Quantiles(qs, second); // unchanged: served from the cache, the same answer
        Assert.Equal(first, second);
        for (int i = 0; i < 10; i++)
        {
            s.Observe(2.0);
        }

        s.Quantiles(qs, second);
        Assert.InRange(second[0], 2.0 * (1 - (1 / 32.0)), 2.0 * (1 + (1 / 32.0)));
        Assert.NotEqual(first[0], second[0]);
    }

    [Fact]
    public void OldObservations_LeaveTheWindow_ButSumAndCountStayCumulative()
    {
        (MetricRegistry registry, Series s, ManualTime time) = NewSummary();
        for (int i = 0; i < 100; i++)
        {
            s.Observe(2.0);
        }

        time.Advance(TimeSpan.FromSeconds(30));
        for (int i = 0; i < 100; i++)
        {
            s.Observe(0.01);
        }

        Assert.InRange(s.Quantile(0.99), 1.9, 2.1); // both halves still in the window
        time.Advance(TimeSpan.FromSeconds(35));      // the slow ones are older than a minute now
        Assert.InRange(s.Quantile(0.99), 0.0095, 0.0105);
        time.Advance(TimeSpan.FromMinutes(2));
        Assert.True(double.IsNaN(s.Quantile(0.5)));
        Assert.Equal(200, s.SummaryCount);

        string text = TestRegistries.Render(registry, ExpositionFormat.Text);
        Assert.Contains("# TYPE aishell_d_summary summary\n", text, StringComparison.Ordinal);
        Assert.Contains("aishell_d_summary{database=\"app1\",quantile=\"0.5\"} NaN\n", text, StringComparison.Ordinal);
        Assert.Contains("aishell_d_summary_count{database=\"app1\"} 200\n", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE aishell_d_summary summary\n", TestRegistries.Render(registry, ExpositionFormat.OpenMetrics), StringComparison.Ordinal);
    }

    [Fact]
    public void QuantileLabel_IsReservedOnSummaries()
    {
        var registry = new MetricRegistry();
        Assert.Throws<ArgumentException>(() => registry.Register(MetricDescriptor.Summary("x", "x", [0.5], TimeSpan.FromMinutes(1), "quantile")));
    }

    [Fact]
    public async Task RacingScrapes_WithDifferentQuantiles_EachGetTheirOwnAnswer()
    {
        (_, Series s, ManualTime time) = NewSummary();
        for (int i = 1; i <= 1000; i++)
        {
            s.Observe(i / 1000.0);
        }

        // Same length, different values: a scrape handed the other set's cached buckets fails.
        double[][] sets = [[0.1, 0.5, 0.9], [0.25, 0.75, 0.99]];
        int[][] expected = new int[2][];
        for (int k = 0; k < 2; k++)
        {
            expected[k] = new int[3];
            s.QuantileBuckets(sets[k], expected[k], time.Ticks);
        }

        Assert.NotEqual(expected[0], expected[1]);
        Task scraper(int offset) => Task.Run(() =>
        {
            int[] into = new int[3];
            for (int i = 0; i < 200_000; i++)
            {
                int k = (i + offset) & 1;
                s.QuantileBuckets(sets[k], into, time.Ticks);
                Assert.Equal(expected[k], into);
            }
        });

        await Task.WhenAll(scraper(0), scraper(1), scraper(0)).WaitAsync(TimeSpan.FromSeconds(60));
    }
}
