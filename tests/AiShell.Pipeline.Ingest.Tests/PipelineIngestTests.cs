using AiShell.Pipeline.Actors;
using AiShell.Pipeline.Metrics;
using AiShell.Pipeline.Metrics.Pipeline;

namespace AiShell.Pipeline.Ingest.Tests;

/// <summary>Events through the real actor pipeline: aggregators on their own threads, a small budget.</summary>
public sealed class PipelineIngestTests
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
            // More recording threads than cores: they block while the pipeline is full.
            Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, t =>
            {
                for (int i = 0; i < 25_000; i++)
                {
                    Assert.Null(recorder.Query("db" + (t % 4), i % 3 == 0 ? "INSERT" : "SELECT", "success", (i % 100) * 0.01));
                }
            });
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

public sealed class RecorderAllocationTests
{
    [Fact]
    public void RecordingAQueryEvent_AllocatesAlmostNothing_OnlyTheBatchHandOverEvery4096Samples()
    {
        var h = new IngestHarness(maxPending: 100_000_000);
        using var recorder = new EventRecorder(h.Ingestor);
        for (int i = 0; i < 10_000; i++)
        {
            recorder.Query("app1", "SELECT", "success", 0.002); // warm: series resolved, pools filled
        }

        // Fold on another thread while recording, as the aggregators do: they return the batches'
        // pooled arrays, which the recorder rents again.
        using var stop = new CancellationTokenSource();
        var folder = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                h.Drain();
                Thread.Sleep(1);
            }
        });
        folder.Start();
        long before = GC.GetAllocatedBytesForCurrentThread();
        const int Events = 200_000;
        for (int i = 0; i < Events; i++)
        {
            recorder.Query("app1", "SELECT", "success", 0.002);
        }

        double perEvent = (GC.GetAllocatedBytesForCurrentThread() - before) / (double)Events;
        stop.Cancel();
        folder.Join();
        Assert.True(perEvent < 1.0, $"{perEvent:0.###} bytes per event");
    }
}
