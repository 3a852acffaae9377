using AiShell.Pipeline.Tests.Shared;

namespace AiShell.Pipeline.Metrics.Tests;

/// <summary>The lock-free label-set lookup: same values → same series, from any thread, while the index grows.</summary>
public sealed class SeriesLookupTests
{
    [Fact]
    public void ValuesSplitDifferently_AreDifferentSeries()
    {
        MetricFamily family = new MetricRegistry().Register(MetricDescriptor.Gauge("g", "g", "a", "b"));
        Series ab = family.WithLabels("ab", "c");
        Series a = family.WithLabels("a", "bc");
        Series longer = family.WithLabels("abcdefgh", "ijkl");
        Series shifted = family.WithLabels("abcdefghi", "jkl");
        Assert.NotSame(ab, a);
        Assert.NotSame(longer, shifted);
        Assert.Equal(["a", "bc"], a.LabelValues);
        Assert.Equal(4, family.Count);
    }

    [Fact]
    public void EqualValuesFromDistinctStringInstances_FindTheSameSeries()
    {
        MetricFamily family = new MetricRegistry().Register(TestRegistries.Queries);
        Series first = family.WithLabels("orders", "SELECT", "success");
        string built = new string('o', 1) + "rders";
        Assert.Same(first, family.WithLabels(built, string.Concat("SEL", "ECT"), "success"));
        Assert.Equal(1, family.Count);
    }

    [Fact]
    public void ReadersDuringGrowth_AlwaysGetTheOneSeriesPerLabelSet()
    {
        MetricFamily family = new MetricRegistry().Register(MetricDescriptor.Gauge("g", "g", "k", "v"));
        const int Sets = 5000;
        string[] keys = [.. Enumerable.Range(0, Sets).Select(i => "key-" + i)];
        var seen = new Series[4][];
        Parallel.For(0, 4, t =>
        {
            var mine = new Series[Sets];
            for (int i = 0; i < Sets; i++)
            {
                int k = (i * 7919 + t * 131) % Sets; // each thread walks the sets in its own order
                mine[k] = family.WithLabels(keys[k], "x");
                Assert.Same(mine[k], family.WithLabels(new string(keys[k].AsSpan()), "x"));
            }

            seen[t] = mine;
        });

        Assert.Equal(Sets, family.Count);
        for (int i = 0; i < Sets; i++)
        {
            Assert.Same(seen[0][i], seen[1][i]);
            Assert.Same(seen[0][i], seen[2][i]);
            Assert.Same(seen[0][i], seen[3][i]);
            Assert.Equal(keys[i], seen[0][i].LabelValues[0]);
        }
    }

    [Fact]
    public void DroppedLabels_AreIgnored_EvenPastTheInlineBufferOfEightKeptLabels()
    {
        string[] names = [.. Enumerable.Range(0, 11).Select(i => "l" + i)];
        var registry = new MetricRegistry(new MetricOptions { DropLabels = ["l0"] });
        MetricFamily family = registry.Register(MetricDescriptor.Gauge("wide", "w", names));
        string[] values = [.. Enumerable.Range(0, 11).Select(i => "v" + i)];
        Series series = family.WithLabels(values);
        values[0] = "different-but-dropped";
        Assert.Same(series, family.WithLabels(values));
        Assert.Equal(10, series.LabelValues.Length);
        Assert.Equal("v1", series.LabelValues[0]);
    }

    [Fact]
    public void ResolvingAnExistingSeries_AllocatesNothing()
    {
        MetricRegistry registry = TestRegistries.ProductShape(labelSets: 200);
        MetricFamily counter = registry.Find("aishell_query_total")!;
        static void Resolve(MetricFamily family)
        {
            for (int i = 0; i < 10_000; i++)
            {
                family.WithLabels("db0", "SELECT", "success").Add(1);
            }
        }

        Assert.Equal(0, Allocations.Least(() => Resolve(counter)));
        Assert.Equal(200, counter.Count);
    }
}

public sealed class SeriesGroupTests
{
    private static (MetricRegistry Registry, MetricFamily Counter, MetricFamily Histogram, MetricFamily Summary) Families(int limit = 10_000)
    {
        var registry = new MetricRegistry(new MetricOptions
        {
            SeriesLimit = limit,
            BucketSets = new Dictionary<string, double[]> { ["query_duration"] = [0.1, 1] },
        });
        return (registry,
            registry.Register(TestRegistries.Queries),
            registry.Register(MetricDescriptor.Histogram("d_seconds", "d", "query_duration", "database", "type")),
            registry.Register(MetricDescriptor.Summary("s_seconds", "s", [0.5], TimeSpan.FromMinutes(1), "database")));
    }

    [Fact]
    public void EachFamilyGetsTheSeriesForItsOwnLabels()
    {
        var (_, counter, histogram, summary) = Families();
        var group = new SeriesGroup(["database", "type", "status"], counter, histogram, summary);
        ReadOnlySpan<Series> bundle = group.WithLabels("orders", "SELECT", "error");
        Assert.Same(counter.WithLabels("orders", "SELECT", "error"), bundle[0]);
        Assert.Same(histogram.WithLabels("orders", "SELECT"), bundle[1]);
        Assert.Same(summary.WithLabels("orders"), bundle[2]);
        Assert.Same(bundle[1], group.WithLabels("orders", "SELECT", "success")[1]);
        Assert.Equal(2, counter.Count);
        Assert.Equal(1, histogram.Count);
    }

    [Fact]
    public void RecentTuples_AnswerTheirOwnBundle_WhateverTheInstancesAndTheGroup()
    {
        var (_, counter, histogram, _) = Families();
        var group = new SeriesGroup(["database", "type", "status"], counter, histogram);
        var other = new SeriesGroup(["database", "type", "status"], counter);
        // 1,500 tuples (more than the group's 1,024 recent slots, so slots collide) visited three
        // times in an interleaved order, each time as other string instances with the same
        // characters, or the very same ones.
        string[][] same = [.. Enumerable.Range(0, 1500).Select(i => new[] { "db" + i, "SELECT", i % 2 == 0 ? "success" : "error" })];
        for (int round = 0; round < 3; round++)
        {
            for (int k = 0; k < same.Length; k++)
            {
                int i = (k * 7) % same.Length;
                string[] values = round == 1 ? [new string(same[i][0]), new string(same[i][1]), new string(same[i][2])] : same[i];
                ReadOnlySpan<Series> bundle = group.WithLabels(values);
                Assert.Same(counter.WithLabels(same[i]), bundle[0]);
                Assert.Same(histogram.WithLabels(same[i][0], same[i][1]), bundle[1]);
                ReadOnlySpan<Series> alone = other.WithLabels(values);
                Assert.Equal(1, alone.Length);
                Assert.Same(bundle[0], alone[0]);
            }
        }

        Assert.Equal(1500, counter.Count);
    }

    [Fact]
    public void ThreadsSharingTheRecentSlots_EachGetTheirOwnTuplesSeries()
    {
        var (_, counter, histogram, _) = Families();
        var group = new SeriesGroup(["database", "type", "status"], counter, histogram);
        // The same canonical instances on four threads, 2,000 tuples over 1,024 shared slots: slots
        // are overwritten by one thread while the others read them.
        string[][] tuples = [.. Enumerable.Range(0, 2000).Select(i => new[] { "db" + i, "SELECT", "success" })];
        Series[] counters = [.. tuples.Select(t => counter.WithLabels(t))];
        Series[] histograms = [.. tuples.Select(t => histogram.WithLabels(t[0], t[1]))];
        int[] steps = [3, 7, 11, 13]; // each thread its own order through every tuple (coprime with 2,000)
        int wrong = 0;
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, t =>
        {
            for (int round = 0; round < 20; round++)
            {
                for (int k = 0; k < tuples.Length; k++)
                {
                    int i = k * steps[t] % tuples.Length;
                    ReadOnlySpan<Series> series = group.WithLabels(tuples[i]);
                    if (!ReferenceEquals(series[0], counters[i]) || !ReferenceEquals(series[1], histograms[i]))
                    {
                        Interlocked.Increment(ref wrong);
                    }
                }
            }
        });

        Assert.Equal(0, wrong);
        Assert.Equal(2000, counter.Count);
    }

    [Fact]
    public void OnResolve_SeesEveryNewTupleOnce_AndOverflowedOnesEveryTime()
    {
        var (_, counter, _, _) = Families(limit: 2);
        var seen = new List<string>();
        var group = new SeriesGroup(["database", "type", "status"], counter) { OnResolve = v => seen.Add(string.Join("/", v.ToArray())) };
        for (int round = 0; round < 3; round++)
        {
            group.WithLabels("a", "SELECT", "success");
            group.WithLabels(new string("a"), "SELECT", "success"); // equal characters: the index's tuple, not a new one
            group.WithLabels("b", "SELECT", "success");
            group.WithLabels("c", "SELECT", "success"); // past the limit of 2: overflow, resolved every time
        }

        Assert.Equal(["a/SELECT/success", "b/SELECT/success", "c/SELECT/success", "c/SELECT/success", "c/SELECT/success"], seen);
    }

    [Fact]
    public void AFamilyLabelTheGroupLacks_IsRejected()
    {
        var (_, counter, _, _) = Families();
        Assert.Throws<ArgumentException>(() => new SeriesGroup(["database", "type"], counter));
    }

    [Fact]
    public void PastTheSeriesLimit_OverflowIsCountedPerEvent_AndTheGroupStopsRemembering()
    {
        var (registry, counter, _, _) = Families(limit: 3);
        var group = new SeriesGroup(["database", "type", "status"], counter);
        for (int i = 0; i < 3; i++)
        {
            Assert.False(counter.IsOverflow(group.WithLabels("db" + i, "SELECT", "success")[0]));
        }

        for (int round = 0; round < 5; round++)
        {
            Assert.True(counter.IsOverflow(group.WithLabels("db-new", "SELECT", "success")[0]));
        }

        Series overflowCount = registry.Find("aishell_pipeline_series_overflow_total")!.WithLabels(counter.Name);
        Assert.Equal(5, overflowCount.Value);
        Assert.Equal(4, counter.Count); // three label sets plus the overflow series
    }

    [Fact]
    public void ConcurrentFirstUse_ResolvesOneBundlePerLabelSet()
    {
        var (_, counter, histogram, _) = Families();
        var group = new SeriesGroup(["database", "type", "status"], counter, histogram);
        var first = new Series[4][];
        Parallel.For(0, 4, t =>
        {
            var mine = new Series[1000];
            for (int i = 0; i < mine.Length; i++)
            {
                mine[i] = group.WithLabels("db" + i, "SELECT", "success")[1];
            }

            first[t] = mine;
        });
        for (int i = 0; i < 1000; i++)
        {
            Assert.Same(first[0][i], first[3][i]);
            Assert.Same(histogram.WithLabels("db" + i, "SELECT"), first[1][i]);
        }

        Assert.Equal(1000, counter.Count);
    }
}
