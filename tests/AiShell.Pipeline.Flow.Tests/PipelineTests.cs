using AiShell.Pipeline.Tests.Shared;
using AiShell.Pipeline.Actors;
using AiShell.Pipeline.Ingest;
using AiShell.Pipeline.Metrics;
using AiShell.Pipeline.Metrics.Flow;

namespace AiShell.Pipeline.Flow.Tests;

/// <summary>Events through the real actor pipeline: aggregators on their own threads, a small budget.</summary>
[Collection(AloneCollection.Name)]
public sealed class PipelineTests
{
    [Fact]
    public async Task InProcessRecording_FromManyThreads_ThroughTheRealAggregators_CountsEveryEventOnce()
    {
        var registry = new MetricRegistry();
        MetricsPipeline pipeline = MetricsPipeline.Start(registry, [], new PipelineOptions { Shards = 2, MaxPendingSamples = 5_000 });
        var schema = new EventSchema(registry, [0.5], [], new QuerySources());
        var ingestor = new EventIngestor(registry, schema, pipeline.Channels);
        using (var recorder = new EventRecorder(ingestor))
        {
            // More recording threads than cores: they block while the pipeline is full. Bounded, so a
            // lost wake-up fails the test instead of hanging the run.
            Task recording = Task.Run(() => Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, t =>
            {
                for (int i = 0; i < 25_000; i++)
                {
                    Assert.Null(recorder.Query("db" + (t % 4), i % 3 == 0 ? "INSERT" : "SELECT", "success", (i % 100) * 0.01));
                }
            }));
            await recording.WaitAsync(TimeSpan.FromSeconds(60));
        }

        await pipeline.StopAsync(TimeSpan.FromSeconds(10)); // folds everything accepted
        MetricFamily total = registry.Find("aishell_query_total")!;
        double sum = 0;
        foreach (Series s in total.AllSeries())
        {
            sum += s.Value;
        }

        Assert.Equal(200_000, sum);
        Assert.Equal(200_000, registry.Find("aishell_pipeline_events_received_total")!.WithLabels("inprocess").Value);
        Assert.Equal(0, pipeline.Channels.Pending);
        long observations = 0;
        foreach (Series s in registry.Find("aishell_query_duration_seconds")!.AllSeries())
        {
            observations += s.Count;
        }

        Assert.Equal(200_000, observations);
    }
}

[Collection(AloneCollection.Name)]
public sealed class RecorderAllocationTests
{
    [Fact]
    public void RecordingAQueryEvent_AllocatesAlmostNothing_OnlyTheBatchObjectsOfEachHandOver()
    {
        var h = new IngestHarness();
        using var recorder = new EventRecorder(h.Ingestor);

        // Record a cycle, then fold it (as the aggregators do, returning the batches' pooled arrays
        // for the recorder to rent again). After two warm-up cycles the pool holds what a cycle needs.
        const int Cycle = 50_000;
        void RunCycle()
        {
            for (int i = 0; i < Cycle; i++)
            {
                recorder.Query("app1", "SELECT", "success", 0.002);
            }

            h.Drain();
        }

        double perEvent = BytesPerEvent(RunCycle, warmUps: 2, cycles: 10, Cycle);
        Assert.True(perEvent < 1.0, $"{perEvent:0.###} bytes per event");
    }

    /// <summary>Bytes this thread allocates per event over <paramref name="cycles"/> runs of <paramref name="cycle"/>, after the warm-ups.</summary>
    internal static double BytesPerEvent(Action cycle, int warmUps, int cycles, int eventsPerCycle)
    {
        for (int w = 0; w < warmUps; w++)
        {
            cycle();
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int c = 0; c < cycles; c++)
        {
            cycle();
        }

        return (GC.GetAllocatedBytesForCurrentThread() - before) / (double)(cycles * eventsPerCycle);
    }
}

[Collection(AloneCollection.Name)]
public sealed class HttpRequestTallyTests
{
    [Fact]
    public void RequestsOfManyEvents_ReuseTheirTallies_AndEachIsCountedOnce()
    {
        // A tally per tuple holds a summary's 672 bucket counts (5 KiB): built per request, four
        // tuples cost 22 bytes per event of a 1,000-event request. Kept between requests, they cost nothing.
        var h = new IngestHarness();
        var events = new List<IngestEvent>();
        for (int i = 0; i < 1000; i++)
        {
            IngestEvent e = IngestEvent.Query((i & 1) == 0 ? "app1" : "app2", (i & 2) == 0 ? "SELECT" : "INSERT", "success", 0.001 * (i % 300));
            Assert.Null(h.Schema.Validate(ref e));
            events.Add(e);
        }

        int requests = 0;
        void Request()
        {
            Assert.True(h.Ingestor.TryIngest(events, IngestSources.Http));
            h.Drain();
            requests++;
        }

        double perEvent = RecorderAllocationTests.BytesPerEvent(Request, warmUps: 2, cycles: 10, events.Count);
        Assert.True(perEvent < 4.0, $"{perEvent:0.###} bytes per event");
        Assert.Equal(requests * 250, h.Value("query_total", "app2", "INSERT", "success"));
        Assert.Equal(requests * 250, h.HistogramCount("query_duration_seconds", "app1", "SELECT"));
    }
}

[Collection(AloneCollection.Name)]
public sealed class RecorderArrayReuseTests
{
    [Fact]
    public void APipelineHoldingNearlyItsWholeBudget_RunsOnReusedArrays_WithoutAllocatingPerBatch()
    {
        // A saturated pipeline holds its budget of samples in flight (two million by default). The
        // recorder once handed over arrays a quarter used, more of them than the pool kept, so every
        // batch beyond the pool's 1,024 allocated and zeroed 32 KiB: hundreds of bytes per event.
        // Connection events (two gauges and a wait histogram: three samples each, not tallied, as
        // query events are) put 1.8 million samples in flight per cycle.
        var h = new IngestHarness(maxPending: 2_000_000);
        using var recorder = new EventRecorder(h.Ingestor);
        const int Cycle = 600_000;
        long waited = 0;
        void RunCycle()
        {
            for (int i = 0; i < Cycle; i++)
            {
                recorder.Connection((i & 1) == 0 ? "app1" : "app2", i & 15, 20, 0.002);
            }

            recorder.FlushAll();
            Assert.InRange(h.Drain(), 3 * Cycle, 3 * Cycle + (Cycle / 10));
            long total = h.HistogramCount("connection_wait_seconds", "app1") + h.HistogramCount("connection_wait_seconds", "app2");
            Assert.Equal(waited + Cycle, total);
            waited = total;
        }

        double perEvent = RecorderAllocationTests.BytesPerEvent(RunCycle, warmUps: 1, cycles: 2, Cycle); // the warm-up fills the pool
        Assert.True(perEvent < 1.0, $"{perEvent:0.###} bytes per event");
    }
}

[Collection(AloneCollection.Name)]
public sealed class RecorderBackpressureTests
{
    /// <summary>A sink that is full until opened: every hand-over waits for room.</summary>
    private sealed class GatedSink(int shards) : ISampleSink
    {
        private readonly ManualResetEventSlim _open = new();

        public int Shards => shards;

        public long Pending => 0;

        public void Open() => _open.Set();

        public bool TryWriteAll(IReadOnlyList<SampleBatch> batches)
        {
            if (!_open.IsSet)
            {
                return false;
            }

            foreach (SampleBatch batch in batches)
            {
                batch.Release();
            }

            return true;
        }

        public bool WaitForRoom(TimeSpan timeout) => _open.Wait(timeout);
    }

    [Fact]
    public void ARecorderWaitingForRoom_LeavesThePoolFree_ForTheAggregatorsAndEverythingElse()
    {
        // The recording thread holds its stripe while it waits for room. The hand-over timer ticks
        // twenty times a second: a tick that waited for that stripe kept a pool thread each time,
        // faster than the pool adds threads, until work queued to the pool (the actor system's own)
        // no longer ran at all.
        var registry = new MetricRegistry();
        var sink = new GatedSink(2);
        var ingestor = new EventIngestor(registry, new EventSchema(registry, [0.5], [], new QuerySources()), sink);
        using var recorder = new EventRecorder(ingestor);
        var recording = new Thread(() =>
        {
            for (int i = 0; i < EventRecorder.FlushThreshold; i++) // reaches the threshold: hands over, waits
            {
                recorder.Query("db", "SELECT", "success", 0.01);
            }
        }) { IsBackground = true };
        recording.Start();
        try
        {
            Thread.Sleep(1500); // thirty ticks while the recording thread waits
            using var ran = new ManualResetEventSlim();
            ThreadPool.UnsafeQueueUserWorkItem(static r => ((ManualResetEventSlim)r!).Set(), ran);
            Assert.True(ran.Wait(TimeSpan.FromSeconds(2)), $"a pool work item waited over 2 s ({ThreadPool.ThreadCount} pool threads, {ThreadPool.PendingWorkItemCount} items queued)");
        }
        finally
        {
            sink.Open();
            Assert.True(recording.Join(TimeSpan.FromSeconds(10)));
        }
    }
}
