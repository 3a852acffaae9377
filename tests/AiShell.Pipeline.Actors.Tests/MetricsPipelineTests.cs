using System.Text;
using AiShell.Pipeline.Metrics;
using AiShell.Pipeline.Metrics.Exposition;

namespace AiShell.Pipeline.Actors.Tests;

public sealed class MetricsPipelineTests
{
    private static PipelineOptions Fast(TimeSpan? timeout = null) => new()
    {
        Shards = 2,
        CollectInterval = TimeSpan.FromMilliseconds(50),
        CollectTimeout = timeout,
        MinBackoff = TimeSpan.FromMilliseconds(100),
        MaxBackoff = TimeSpan.FromMilliseconds(400),
    };

    private static string Scrape(MetricRegistry registry)
    {
        var buffer = new ScrapeBuffer();
        ExpositionWriter.Write(buffer, registry, ExpositionFormat.Text);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static double Value(MetricRegistry registry, string name, params string[] labels) =>
        registry.Find(name)!.WithLabels(labels).Value;

    [Fact]
    public async Task ThrowingCollector_IsRestartedWithBackoff_WhileScrapesAndOtherCollectorsGoOn()
    {
        var registry = new MetricRegistry();
        var flaky = new ScriptedCollector("flaky", 1, 2, 3);
        var healthy = new ScriptedCollector("healthy");
        await using MetricsPipeline pipeline = MetricsPipeline.Start(registry, [flaky, healthy], Fast());

        // During the failures: every scrape works and reports the collector down.
        await Wait.UntilAsync(() => Value(registry, "aishell_collector_errors_total", "flaky") >= 1, "the first failure is counted");
        string during = Scrape(registry);
        Assert.Contains("aishell_collector_up{collector=\"flaky\"} 0\n", during, StringComparison.Ordinal);

        await Wait.UntilAsync(() => flaky.RunsSeries.Value >= 2, "flaky recovers and collects twice");
        Assert.Equal(3, Value(registry, "aishell_collector_errors_total", "flaky"));
        Assert.Equal(1, Value(registry, "aishell_collector_up", "flaky"));

        // Backoff: after failure k the next run waits at least 100 ms * 2^(k-1), capped at 400 ms (jitter
        // only adds). Lower bounds hold on a loaded machine; a count of runs in a window would not.
        long[] flakyRuns = flaky.RunStarts;
        long[] healthyRuns = healthy.RunStarts;
        double[] floorsMs = [100, 200, 400];
        for (int k = 0; k < floorsMs.Length; k++)
        {
            double gapMs = System.Diagnostics.Stopwatch.GetElapsedTime(flakyRuns[k], flakyRuns[k + 1]).TotalMilliseconds;
            // 10 ms of slack: Akka's scheduler ticks every 10 ms and may round a delay down to a tick.
            Assert.True(gapMs >= floorsMs[k] - 10, $"gap after failure {k + 1} was {gapMs:F0} ms, backoff floor {floorsMs[k]} ms");
        }

        // The other collector is not held up by the backoff: it ran inside the two longer windows.
        for (int k = 1; k < floorsMs.Length; k++)
        {
            long from = flakyRuns[k], to = flakyRuns[k + 1];
            Assert.True(healthyRuns.Any(t => t > from && t < to), $"healthy did not run between flaky's runs {k + 1} and {k + 2}");
        }

        Assert.Equal(0, Value(registry, "aishell_collector_errors_total", "healthy"));

        CollectorHealthSnapshot health = pipeline.Status.Collectors.Single(c => c.Name == "flaky").Snapshot();
        Assert.Equal(3, health.TotalFailures);
        Assert.True(health.Up);
        Assert.Contains("scripted failure on run 3", health.LastError, StringComparison.Ordinal);
        Assert.NotNull(health.LastSuccess);
    }

    [Fact]
    public async Task Ready_OnlyAfterTheFirstCollectionIsFolded()
    {
        var registry = new MetricRegistry();
        var gated = new GatedCollector();
        await using MetricsPipeline pipeline = MetricsPipeline.Start(registry, [gated], Fast(timeout: TimeSpan.FromSeconds(10)));
        await Task.Delay(200);
        Assert.False(pipeline.Status.Ready);
        Assert.DoesNotContain("aishell_gated_value", Scrape(registry), StringComparison.Ordinal); // the scrape did not wait

        gated.Release();
        await Wait.UntilAsync(() => pipeline.Status.Ready, "ready after the first fold");
        Assert.Equal(42, Value(registry, "aishell_gated_value"));
    }

    [Fact]
    public async Task HangingCollector_TimesOut_IsCountedAsFailed_AndScrapesStillAnswer()
    {
        var registry = new MetricRegistry();
        var hanging = new GatedCollector(hang: TimeSpan.FromSeconds(30));
        await using MetricsPipeline pipeline = MetricsPipeline.Start(registry, [hanging], Fast(timeout: TimeSpan.FromMilliseconds(200)));
        await Wait.UntilAsync(() => Value(registry, "aishell_collector_errors_total", "gated") >= 1, "the timeout is counted");
        Assert.True(pipeline.Status.Ready, "a failed first run still settles readiness");
        Assert.Contains("longer than 0.2s", pipeline.Status.Collectors[0].Snapshot().LastError, StringComparison.Ordinal);
        await Wait.UntilAsync(() => Value(registry, "aishell_gated_value") == 42, "the next run succeeds");
    }

    [Fact]
    public async Task StopAsync_FoldsEveryBatchAlreadyAccepted()
    {
        var registry = new MetricRegistry();
        var counting = new ScriptedCollector("counting");
        MetricsPipeline pipeline = MetricsPipeline.Start(registry, [counting], Fast());
        await Wait.UntilAsync(() => counting.Runs >= 5, "a few runs");
        await pipeline.StopAsync(TimeSpan.FromSeconds(5));
        int runs = counting.Runs;
        Assert.Equal(runs, counting.RunsSeries.Value);
        await Task.Delay(150);
        Assert.Equal(runs, counting.Runs); // stopped: no more runs
    }

    [Fact]
    public async Task AggregatorsFold_EvenWhenEveryPoolThreadIsBlockedRightAfterStart()
    {
        // In-process recorders block pool threads while the pipeline is full. The aggregators run
        // on their own threads, but a top-level actor is created by the user guardian on the pool:
        // Start must not return before they run, or a pool starved at once never creates them.
        var registry = new MetricRegistry();
        Series counter = registry.Register(MetricDescriptor.Counter("starved_total", "S.")).WithLabels();
        await using MetricsPipeline pipeline = MetricsPipeline.Start(registry, [], Fast());
        Assert.True(pipeline.AggregatorsRunning, "Start returned before its aggregators ran");
        // Not disposed: queued items still start (and Wait on it) after the test has returned.
        var release = new ManualResetEventSlim();
        var flood = new Thread(() =>
        {
            // Faster than the pool adds threads, and bounded: 2,000 blocking items or 20 s.
            for (int i = 0; i < 2_000 && !release.IsSet; i++)
            {
                ThreadPool.UnsafeQueueUserWorkItem(static r => ((ManualResetEventSlim)r!).Wait(TimeSpan.FromSeconds(20)), release);
                Thread.Sleep(i < 100 ? 0 : 10);
            }
        }) { IsBackground = true };
        flood.Start();
        try
        {
            var builder = new AiShell.Pipeline.Metrics.Flow.SampleBatchBuilder("test", pipeline.Channels.Count);
            builder.Increment(counter, 1);
            var batches = new List<AiShell.Pipeline.Metrics.Flow.SampleBatch>();
            builder.BuildInto(batches);
            Assert.True(pipeline.Channels.TryWriteAll(batches));

            // Polled from this thread (not awaited on the starved pool), bounded.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (counter.Value < 1 && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(10);
            }

            Assert.Equal(1, counter.Value);
        }
        finally
        {
            release.Set();
            flood.Join();
        }
    }

    [Fact]
    public void Backoff_DoublesFromTheMinimum_AndIsCapped()
    {
        var options = new PipelineOptions { MinBackoff = TimeSpan.FromSeconds(1), MaxBackoff = TimeSpan.FromSeconds(10) };
        Assert.Equal(TimeSpan.Zero, options.Backoff(0));
        Assert.InRange(options.Backoff(1).TotalSeconds, 1, 1.2);
        Assert.InRange(options.Backoff(3).TotalSeconds, 4, 4.8);
        Assert.InRange(options.Backoff(50).TotalSeconds, 10, 12);
    }
}
