using AiShell.Pipeline.Tests.Shared;
using System.Globalization;
using AiShell.Pipeline.Metrics;
using AiShell.Pipeline.Metrics.Exposition;
using AiShell.Pipeline.Metrics.Flow;

namespace AiShell.Pipeline.Flow.Tests;

/// <summary>
/// <see cref="SampleBatchBuilder.RecordEvent"/>: a tallying builder must leave every series exactly
/// where one sample per event leaves it, whatever the tuples, values, collisions and hand-overs.
/// </summary>
public sealed class EventTallyTests
{
    /// <summary>A counter, a histogram and a summary sharing database/type labels, as a query event writes them.</summary>
    private sealed class Families
    {
        public Families()
        {
            Registry = new MetricRegistry();
            Total = Registry.Register(MetricDescriptor.Counter("q_total", "q", "database", "type"));
            Duration = Registry.Register(MetricDescriptor.Histogram("q_seconds", "q", "query_duration", "database", "type"));
            Summary = Registry.Register(MetricDescriptor.Summary("q_summary", "q", [0.5, 0.9, 0.99], TimeSpan.FromMinutes(5), "database", "type"));
            Group = new SeriesGroup(["database", "type"], Total, Duration, Summary);
        }

        public MetricRegistry Registry { get; }

        public MetricFamily Total { get; }

        public MetricFamily Duration { get; }

        public MetricFamily Summary { get; }

        public SeriesGroup Group { get; }

        /// <summary>Records the events through a builder, handing over (and folding) after every <paramref name="handOverEvery"/> events or when nearly full.</summary>
        public int Record(SampleBatchBuilder builder, IEnumerable<(string Database, string Type, double Value)> events, int handOverEvery = int.MaxValue)
        {
            int batches = 0;
            int since = 0;
            foreach ((string database, string type, double value) in events)
            {
                builder.RecordEvent(Group.WithLabels(database, type), value);
                if (++since >= handOverEvery || builder.NearlyFull)
                {
                    batches += FoldAll(builder);
                    since = 0;
                }
            }

            return batches + FoldAll(builder);
        }

        public string Render() => TestRegistries.Render(Registry, ExpositionFormat.Text);
    }

    private static int FoldAll(SampleBatchBuilder builder)
    {
        List<SampleBatch> batches = builder.Build();
        foreach (SampleBatch batch in batches)
        {
            batch.Fold();
            batch.Release();
        }

        return batches.Count;
    }

    /// <summary>Durations over many buckets and octaves (bucket bounds included), tuples over two databases and three types.</summary>
    private static List<(string, string, double)> Events(int count, int seed)
    {
        var random = new Random(seed);
        string[] databases = ["app1", "app2"];
        string[] types = ["SELECT", "INSERT", "UPDATE"];
        var events = new List<(string, string, double)>(count);
        for (int i = 0; i < count; i++)
        {
            double value = (i % 7) switch
            {
                0 => 0.1, // a bucket bound: counted within it
                1 => 0,
                2 => random.NextDouble() * 20, // into +Inf too
                _ => Math.Round(random.NextDouble() * 0.5, 3), // sums of these are exact enough to compare as text
            };
            events.Add((databases[random.Next(2)], types[random.Next(3)], value));
        }

        return events;
    }

    [Theory]
    [InlineData(1, 1000)]
    [InlineData(2, 50_000)]
    [InlineData(3, 20_000)]
    public void TalliedEvents_LeaveEverySeries_AsOneSamplePerEventDoes(int shards, int count)
    {
        List<(string, string, double)> events = Events(count, seed: count);
        var direct = new Families();
        direct.Record(new SampleBatchBuilder("t", shards), events, handOverEvery: 256);
        var tallied = new Families();
        int batches = tallied.Record(new SampleBatchBuilder("t", shards, SampleBatchBuilder.StreamingCapacity, 8, tallyEvents: true), events);

        foreach ((string database, string type) in new[] { ("app1", "SELECT"), ("app2", "INSERT"), ("app1", "UPDATE") })
        {
            Series d = direct.Duration.WithLabels(database, type), t = tallied.Duration.WithLabels(database, type);
            Assert.Equal(direct.Total.WithLabels(database, type).Value, tallied.Total.WithLabels(database, type).Value);
            Assert.True(d.Count > 0);
            for (int b = 0; b <= direct.Duration.Buckets.Length; b++)
            {
                Assert.Equal(d.BucketCount(b), t.BucketCount(b));
            }

            Assert.Equal(d.Sum, t.Sum, 1e-9 * Math.Max(1, d.Sum));
            Series ds = direct.Summary.WithLabels(database, type), ts = tallied.Summary.WithLabels(database, type);
            Assert.Equal(ds.SummaryCount, ts.SummaryCount);
            foreach (double q in new[] { 0.01, 0.5, 0.9, 0.99, 1 })
            {
                Assert.Equal(ds.Quantile(q), ts.Quantile(q));
            }
        }

        Assert.True(batches >= 1);
    }

    [Fact]
    public void ATallyingBuilder_HandsOverFewerSamples_ThanEvents_ForRepeatedTuples()
    {
        var f = new Families();
        var builder = new SampleBatchBuilder("t", 2, SampleBatchBuilder.StreamingCapacity, 8, tallyEvents: true);
        for (int i = 0; i < 10_000; i++)
        {
            builder.RecordEvent(f.Group.WithLabels("app1", "SELECT"), 0.004); // one tuple, one bucket of each
        }

        Assert.False(builder.NearlyFull);
        List<SampleBatch> batches = builder.Build();
        Assert.Equal(3, batches.Sum(b => b.Count)); // the count, one histogram bucket, one summary bucket
        foreach (SampleBatch batch in batches)
        {
            batch.Fold();
            batch.Release();
        }

        Series duration = f.Duration.WithLabels("app1", "SELECT");
        Assert.Equal(10_000, f.Total.WithLabels("app1", "SELECT").Value);
        Assert.Equal(10_000, duration.Count);
        Assert.Equal(40.0, duration.Sum, 1e-9);
        Assert.Equal(10_000, f.Summary.WithLabels("app1", "SELECT").SummaryCount);
        Assert.Empty(builder.Build()); // emptied by the hand-over
    }

    [Fact]
    public void ManyEventsOrManyBuckets_MakeTheBuilderNearlyFull()
    {
        var f = new Families();
        var events = new SampleBatchBuilder("t", 2, SampleBatchBuilder.StreamingCapacity, 8, tallyEvents: true);
        for (int i = 0; i < SampleBatchBuilder.MaxTalliedEvents - 1; i++)
        {
            events.RecordEvent(f.Group.WithLabels("app1", "SELECT"), 0.004);
        }

        Assert.False(events.NearlyFull);
        events.RecordEvent(f.Group.WithLabels("app1", "SELECT"), 0.004);
        Assert.True(events.NearlyFull); // the lag a scrape sees stays bounded
        FoldAll(events);
        Assert.False(events.NearlyFull);
        Assert.Equal(SampleBatchBuilder.MaxTalliedEvents, f.Total.WithLabels("app1", "SELECT").Value);

        // Values spread so that each event opens a new summary bucket: the samples held back reach the bound first.
        var buckets = new SampleBatchBuilder("t", 2, SampleBatchBuilder.StreamingCapacity, 8, tallyEvents: true);
        int recorded = 0;
        string[] databases = [.. Enumerable.Range(0, 128).Select(i => "db" + i.ToString(CultureInfo.InvariantCulture))];
        while (!buckets.NearlyFull)
        {
            buckets.RecordEvent(f.Group.WithLabels(databases[recorded % 128], "SELECT"), Math.ScaleB(1.0, (recorded / 128 % 40) - 20));
            recorded++;
        }

        Assert.True(recorded < SampleBatchBuilder.MaxTalliedEvents);
        FoldAll(buckets);
        Assert.Equal(recorded, databases.Sum(d => f.Total.WithLabels(d, "SELECT").Value));
    }

    [Fact]
    public void TuplesSharingATallySlot_AreEachCounted_AndAShardsArraysStayOneSize()
    {
        // Three times the builder's slots in tuples, so tuples keep taking each other's slot and the
        // one there emits its events early; the emitted samples fill several arrays per shard.
        var f = new Families();
        var builder = new SampleBatchBuilder("t", 2, SampleBatchBuilder.StreamingCapacity, 8, tallyEvents: true);
        string[] databases = [.. Enumerable.Range(0, 3 * SampleBatchBuilder.TallySlots).Select(i => "db" + i.ToString(CultureInfo.InvariantCulture))];
        for (int round = 0; round < 3; round++)
        {
            foreach (string database in databases)
            {
                builder.RecordEvent(f.Group.WithLabels(database, "DELETE"), 0.25 * (round + 1));
            }
        }

        List<SampleBatch> batches = builder.Build();
        Assert.True(batches.Count > 2, $"{batches.Count} batches");
        Assert.All(batches, b => Assert.True(b.Count <= SampleBatchBuilder.StreamingCapacity));
        foreach (int shard in new[] { 0, 1 })
        {
            Assert.Contains(batches, b => b.Shard == shard);
        }

        foreach (SampleBatch batch in batches)
        {
            foreach (Sample sample in batch.Items)
            {
                Assert.Equal(sample.Series.Ordinal % 2, batch.Shard);
            }

            batch.Fold();
            batch.Release();
        }

        foreach (string database in databases)
        {
            Assert.Equal(3, f.Total.WithLabels(database, "DELETE").Value);
            Assert.Equal(3, f.Duration.WithLabels(database, "DELETE").Count);
            Assert.Equal(1.5, f.Duration.WithLabels(database, "DELETE").Sum, 1e-12);
            Assert.Equal(3, f.Summary.WithLabels(database, "DELETE").SummaryCount);
        }
    }

    [Fact]
    public void TwoTuplesWhoseFirstSlotIsOne_EachKeepATally()
    {
        var f = new Families();
        string[] databases = [.. Enumerable.Range(0, SampleBatchBuilder.TallySlots + 100).Select(i => "db" + i.ToString(CultureInfo.InvariantCulture))];
        Series[][] tuples = [.. databases.Select(d => f.Group.WithLabels(d, "SELECT").ToArray())];
        // Two tuples whose counters' ordinals agree in the slot bits: the same first tally slot.
        int other = Enumerable.Range(1, tuples.Length - 1).First(i => ((tuples[i][0].Ordinal ^ tuples[0][0].Ordinal) & (SampleBatchBuilder.TallySlots - 1)) == 0);
        var builder = new SampleBatchBuilder("t", 2, SampleBatchBuilder.StreamingCapacity, 8, tallyEvents: true);
        for (int i = 0; i < 10_000; i++)
        {
            builder.RecordEvent(tuples[(i & 1) == 0 ? 0 : other], 0.004);
        }

        List<SampleBatch> batches = builder.Build();
        Assert.Equal(6, batches.Sum(b => b.Count)); // a count and two buckets each, not ones per event in turns
        foreach (SampleBatch batch in batches)
        {
            batch.Fold();
            batch.Release();
        }

        Assert.Equal(5_000, f.Total.WithLabels(databases[0], "SELECT").Value);
        Assert.Equal(5_000, f.Summary.WithLabels(databases[other], "SELECT").SummaryCount);
    }

    [Fact]
    public void TuplesTakingTurnsInTheSlots_AllocateNothingPerEvent()
    {
        // Three times the builder's slots in tuples, round robin: nearly every event takes over a
        // tally from another tuple. Taking over keeps the tally's arrays; new ones per turn (with
        // a summary's 672 window counts) allocated about 5.7 KiB per event.
        var f = new Families();
        var builder = new SampleBatchBuilder("t", 2, SampleBatchBuilder.StreamingCapacity, 8, tallyEvents: true);
        Series[][] tuples = [.. Enumerable.Range(0, 3 * SampleBatchBuilder.TallySlots).Select(i => f.Group.WithLabels("db" + i.ToString(CultureInfo.InvariantCulture), "UPDATE").ToArray())];
        var handedOver = new List<SampleBatch>();
        void Round()
        {
            foreach (Series[] tuple in tuples)
            {
                builder.RecordEvent(tuple, 0.004); // one bucket: the summaries' windows grow no more after the first round
                if (builder.NearlyFull)
                {
                    HandOver();
                }
            }
        }

        void HandOver()
        {
            builder.BuildInto(handedOver);
            foreach (SampleBatch batch in handedOver)
            {
                batch.Fold();
                batch.Release();
            }
        }

        Round(); // every tally created, every array pooled
        HandOver();
        const int Rounds = 20;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int round = 1; round <= Rounds; round++)
        {
            Round();
        }

        HandOver();
        double perEvent = (double)(GC.GetAllocatedBytesForCurrentThread() - before) / (Rounds * tuples.Length);
        Assert.True(perEvent < 8, $"{perEvent:F1} bytes allocated per event");
        Assert.All(tuples, t => Assert.Equal(Rounds + 1, t[0].Value));
        Assert.All(tuples, t => Assert.Equal(Rounds + 1, t[2].SummaryCount));
        Assert.All(tuples, t => Assert.Equal(0.004 * (Rounds + 1), t[1].Sum, 1e-12));
    }

    [Fact]
    public void ADiscardedRun_LosesItsTallies_AndTheNextOneStartsClean()
    {
        var f = new Families();
        var builder = new SampleBatchBuilder("t", 2, SampleBatchBuilder.StreamingCapacity, 8, tallyEvents: true);
        builder.RecordEvent(f.Group.WithLabels("app1", "SELECT"), 0.5);
        builder.Discard();
        Assert.Empty(builder.Build());
        builder.RecordEvent(f.Group.WithLabels("app1", "SELECT"), 0.5);
        FoldAll(builder);
        Assert.Equal(1, f.Total.WithLabels("app1", "SELECT").Value);
        Assert.Equal(1, f.Duration.WithLabels("app1", "SELECT").Count);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AnEventIntoAGauge_IsRefusedWithTheFamilysName(bool tally)
    {
        var registry = new MetricRegistry();
        MetricFamily gauge = registry.Register(MetricDescriptor.Gauge("level", "l", "database"));
        var group = new SeriesGroup(["database"], gauge);
        var builder = new SampleBatchBuilder("t", 1, tallyEvents: tally);
        var error = Assert.Throws<ArgumentException>(() => builder.RecordEvent(group.WithLabels("app1"), 1));
        Assert.Matches("'[a-z_]*level' is a gauge", error.Message);
        Assert.Empty(builder.Build());
    }
}
