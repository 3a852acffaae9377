using AiShell.Pipeline.Metrics.Pipeline;

namespace AiShell.Pipeline.Metrics.Tests;

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
