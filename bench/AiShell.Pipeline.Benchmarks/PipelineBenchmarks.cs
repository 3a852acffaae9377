using AiShell.Pipeline.Actors;
using AiShell.Pipeline.Ingest;
using AiShell.Pipeline.Metrics;
using AiShell.Pipeline.Metrics.Flow;
using BenchmarkDotNet.Attributes;

namespace AiShell.Pipeline.Benchmarks;

/// <summary>
/// The whole in-process pipeline: query events recorded (validated, folded into per-shard batches),
/// handed through the bounded channels to the aggregator actors on their pinned threads, and folded
/// into the series. One operation is one event; an invocation records <see cref="Events"/> of them
/// from two threads and returns when every one is counted. Events/s = 1 s / Mean.
/// </summary>
[MemoryDiagnoser]
public class PipelineBenchmarks
{
    private const int Events = 1 << 20;
    private const int Chunk = 256;
    private const int Producers = 2;
    private static readonly string[] Types = ["SELECT", "INSERT", "UPDATE", "DELETE"];

    private MetricsPipeline _pipeline = null!;
    private EventRecorder _recorder = null!;
    private MetricFamily _total = null!;
    private double _expected;

    [GlobalSetup]
    public void Setup()
    {
        var registry = new MetricRegistry();
        _pipeline = MetricsPipeline.Start(registry, [], new PipelineOptions());
        var schema = new EventSchema(registry, [0.5, 1, 5], [], new QuerySources());
        _recorder = new EventRecorder(new EventIngestor(registry, schema, _pipeline.Channels));
        _total = registry.Find("aishell_query_total")!;
        RecordAndWait();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _recorder.Dispose();
        _pipeline.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [Benchmark(OperationsPerInvoke = Events)]
    public void RecordAndWait()
    {
        _expected += Events;
        var threads = new Thread[Producers];
        for (int t = 0; t < Producers; t++)
        {
            int seed = t;
            threads[t] = new Thread(() => Produce(seed));
            threads[t].Start();
        }

        foreach (Thread thread in threads)
        {
            thread.Join();
        }

        _recorder.FlushAll();
        var spin = new SpinWait();
        while (Counted() < _expected)
        {
            spin.SpinOnce(sleep1Threshold: 20);
        }
    }

    private void Produce(int seed)
    {
        var events = new IngestEvent[Chunk];
        string[] databases = ["app" + seed, "shared"];
        for (int i = 0; i < Events / Producers; i += Chunk)
        {
            for (int k = 0; k < Chunk; k++)
            {
                int n = i + k;
                events[k] = IngestEvent.Query(databases[n & 1], Types[n & 3], (n & 63) == 0 ? "error" : "success", (n & 1023) * 0.0005, (n & 63) == 0 ? "40001" : null);
            }

            _recorder.RecordAll(events);
        }
    }

    private double Counted()
    {
        double sum = 0;
        foreach (Series s in _total.AllSeries())
        {
            sum += s.Value;
        }

        return sum;
    }
}
