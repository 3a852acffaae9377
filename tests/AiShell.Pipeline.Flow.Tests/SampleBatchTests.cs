using AiShell.Pipeline.Metrics;
using AiShell.Pipeline.Metrics.Flow;

namespace AiShell.Pipeline.Flow.Tests;

public sealed class SampleBatchTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(7)]
    [InlineData(16)]
    [InlineData(31)]
    public void EverySample_GoesToTheShardOfItsOrdinalModuloTheShardCount(int shards)
    {
        var registry = new MetricRegistry();
        MetricFamily gauge = registry.Register(MetricDescriptor.Gauge("g", "g", "i"));
        var builder = new SampleBatchBuilder("test", shards);
        for (int i = 0; i < 5000; i++)
        {
            builder.Set(gauge.WithLabels(i.ToString(System.Globalization.CultureInfo.InvariantCulture)), i);
        }

        int seen = 0;
        foreach (SampleBatch batch in builder.Build())
        {
            foreach (Sample sample in batch.Items)
            {
                Assert.Equal(sample.Series.Ordinal % shards, batch.Shard);
                seen++;
            }

            batch.Release();
        }

        Assert.Equal(5000, seen);
    }

    [Fact]
    public void AStreamingBuilder_IsNearlyFull_OnceAShardHasLessRoomThanTheHeadroom_AndNotAfterHandingOver()
    {
        var registry = new MetricRegistry();
        MetricFamily counter = registry.Register(MetricDescriptor.Counter("c_total", "c", "i"));
        Series one = counter.WithLabels("a");
        const int Headroom = 6;
        var builder = new SampleBatchBuilder("test", 2, SampleBatchBuilder.StreamingCapacity, Headroom);
        for (int i = 0; i < SampleBatchBuilder.StreamingCapacity - Headroom; i++)
        {
            builder.Increment(one, 1);
            Assert.False(builder.NearlyFull, $"nearly full after {i + 1} samples");
        }

        builder.Increment(one, 1); // one shard now has Headroom - 1 free
        Assert.True(builder.NearlyFull);
        List<SampleBatch> batches = builder.Build();
        Assert.False(builder.NearlyFull);
        SampleBatch batch = Assert.Single(batches);
        Assert.Equal(SampleBatchBuilder.StreamingCapacity - Headroom + 1, batch.Count);
        batch.Release();

        var plain = new SampleBatchBuilder("test", 2); // no headroom: grows, never nearly full
        for (int i = 0; i < 3 * SampleBatchBuilder.StreamingCapacity; i++)
        {
            plain.Increment(one, 1);
        }

        Assert.False(plain.NearlyFull);
        Assert.Equal(3 * SampleBatchBuilder.StreamingCapacity, Assert.Single(plain.Build()).Count);
    }

    [Fact]
    public void Builder_SplitsSamplesByOwningShard_AndFoldAppliesEachOperation()
    {
        var registry = new MetricRegistry();
        MetricFamily gauge = registry.Register(MetricDescriptor.Gauge("g", "g", "i"));
        MetricFamily counter = registry.Register(MetricDescriptor.Counter("c_total", "c", "i"));
        MetricFamily hist = registry.Register(MetricDescriptor.Histogram("h", "h", "query_duration"));
        var builder = new SampleBatchBuilder("test", shardCount: 3);
        for (int i = 0; i < 200; i++)
        {
            builder.Set(gauge.WithLabels(i.ToString(System.Globalization.CultureInfo.InvariantCulture)), i);
            builder.Increment(counter.WithLabels("x"), 2);
        }

        builder.Observe(hist.WithLabels(), 0.2);
        List<SampleBatch> batches = builder.Build();

        Assert.Equal(401, batches.Sum(b => b.Count));
        foreach (SampleBatch batch in batches)
        {
            foreach (Sample sample in batch.Items)
            {
                Assert.Equal(batch.Shard, sample.Series.Ordinal % 3);
            }

            batch.Fold();
            batch.Release();
            Assert.Equal(0, batch.Count);
        }

        Assert.Equal(199, gauge.WithLabels("199").Value);
        Assert.Equal(400, counter.WithLabels("x").Value);
        Assert.Equal(1, hist.WithLabels().Count);
        Assert.Empty(builder.Build());
    }
}
