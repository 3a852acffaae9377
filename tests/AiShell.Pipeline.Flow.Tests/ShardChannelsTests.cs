using AiShell.Pipeline.Metrics;
using AiShell.Pipeline.Metrics.Flow;

namespace AiShell.Pipeline.Flow.Tests;

/// <summary>The one wait for room: a collector waits until an aggregator's release makes room, and no longer.</summary>
public sealed class ShardChannelsTests
{
    private static SampleBatch Batch(MetricRegistry registry, int samples)
    {
        var builder = new SampleBatchBuilder("test", 1);
        Series series = registry.Register(MetricDescriptor.Gauge("g", "g")).WithLabels();
        for (int i = 0; i < samples; i++)
        {
            builder.Set(series, i);
        }

        return Assert.Single(builder.Build());
    }

    /// <summary>Folds the one batch queued now, as an aggregator would (not the waiting collector's, which may land meanwhile).</summary>
    private static int FoldOne(ShardChannels channels)
    {
        Assert.True(channels.Reader(0).TryRead(out SampleBatch? batch));
        int count = batch.Count;
        channels.Release(count);
        batch.Release();
        return count;
    }

    [Fact]
    public async Task ACollectorWaits_WhileTheBudgetIsSpent_AndIsAdmittedOnceAReleaseMakesRoom()
    {
        var registry = new MetricRegistry();
        var channels = new ShardChannels(1, maxPendingSamples: 100);
        Assert.True(channels.TryWriteAll([Batch(registry, 100)]));

        Task waiting = channels.WriteAsync(Batch(registry, 50), CancellationToken.None).AsTask();
        await Task.Delay(300);
        Assert.False(waiting.IsCompleted); // the budget is spent: it waits (past several re-checks)

        Assert.Equal(100, FoldOne(channels)); // the aggregator folds: pending 0
        await waiting.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(50, channels.Pending);
    }

    [Fact]
    public async Task ABatchLargerThanTheWholeBudget_IsAdmittedIntoAnEmptyPipeline()
    {
        var registry = new MetricRegistry();
        var channels = new ShardChannels(1, maxPendingSamples: 100);
        Assert.True(channels.TryWriteAll([Batch(registry, 30)]));

        Task waiting = channels.WriteAsync(Batch(registry, 150), CancellationToken.None).AsTask();
        await Task.Delay(300);
        Assert.False(waiting.IsCompleted); // 30 pending: under half the budget, but not empty

        Assert.Equal(30, FoldOne(channels));
        await waiting.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(150, channels.Pending);
    }

    [Fact]
    public async Task AWaitingCollector_StopsWaitingWhenCancelled()
    {
        var registry = new MetricRegistry();
        var channels = new ShardChannels(1, maxPendingSamples: 100);
        Assert.True(channels.TryWriteAll([Batch(registry, 100)]));
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => channels.WriteAsync(Batch(registry, 10), cts.Token).AsTask());
        Assert.Equal(100, channels.Pending);
    }
}
