using System.Runtime.CompilerServices;
using AiShell.Pipeline.Metrics;
using AiShell.Pipeline.Metrics.Flow;
using BenchmarkDotNet.Attributes;
using Prom = Prometheus;

namespace AiShell.Pipeline.Benchmarks;

/// <summary>
/// One query event with label lookup: count it and observe its duration. Ours resolves the label
/// set through the family's lookup on every call here, as prometheus-net's WithLabels does.
/// <c>OursRecord</c> uses the single-writer updates an aggregator applies to the series of its shard;
/// <c>OursRecordAtomic</c> families declared with shared writes (interlocked updates), safe from
/// any thread as prometheus-net's are.
/// </summary>
[MemoryDiagnoser]
public class RecordBenchmarks
{
    private const int Events = 1024;
    private MetricFamily _counter = null!;
    private MetricFamily _histogram = null!;
    private MetricFamily _sharedCounter = null!;
    private MetricFamily _sharedHistogram = null!;
    private SeriesGroup _group = null!;
    private SampleBatchBuilder _tally = null!;
    private readonly List<SampleBatch> _handedOver = [];
    private Prom.Counter _theirCounter = null!;
    private Prom.Histogram _theirHistogram = null!;
    private (string Database, string Type, string Status)[] _labels = null!;
    private (string Database, string Type, string Status)[] _copies = null!;
    private (string Database, string Type, string Status)[] _many = null!;
    private SampleBatchBuilder _tallyMany = null!;

    [GlobalSetup]
    public void Setup()
    {
        // Label values built once: the benchmark measures recording, not string concatenation.
        _labels = new (string, string, string)[128];
        for (int i = 0; i < _labels.Length; i++)
        {
            _labels[i] = ProductShape.Labels(i);
        }

        // The same 128 tuples again and again, each time as other string instances (equal characters):
        // what a caller that builds its label strings per event passes. 1,024 distinct instance
        // tuples are more than a thread's recent-tuple slots, so these lookups hash and probe.
        _copies = new (string, string, string)[Events];
        for (int i = 0; i < _copies.Length; i++)
        {
            (string db, string type, string status) = _labels[i & 127];
            _copies[i] = (new string(db), new string(type), new string(status));
        }

        var registry = new MetricRegistry(new MetricOptions
        {
            BucketSets = new Dictionary<string, double[]> { ["query_duration"] = ProductShape.Buckets },
        });
        _counter = registry.Register(MetricDescriptor.Counter("query_total", "q", ProductShape.LabelNames));
        _histogram = registry.Register(MetricDescriptor.Histogram("query_duration_seconds", "d", "query_duration", ProductShape.LabelNames));
        _group = new SeriesGroup(ProductShape.LabelNames, _counter, _histogram);
        _sharedCounter = registry.Register(MetricDescriptor.Counter("shared_query_total", "q", ProductShape.LabelNames) with { SharedWrites = true });
        _sharedHistogram = registry.Register(MetricDescriptor.Histogram("shared_query_duration_seconds", "d", "query_duration", ProductShape.LabelNames) with { SharedWrites = true });
        Prom.MetricFactory factory = Prom.Metrics.WithCustomRegistry(Prom.Metrics.NewCustomRegistry());
        _theirCounter = factory.CreateCounter("aishell_query_total", "q", ProductShape.LabelNames);
        _theirHistogram = factory.CreateHistogram("aishell_query_duration_seconds", "d",
            new Prom.HistogramConfiguration { LabelNames = ProductShape.LabelNames, Buckets = ProductShape.Buckets });
        TheirsRecord();
        OursRecord();
        OursRecordGrouped();
        OursRecordGroupedNewInstances();
        _tally = new SampleBatchBuilder("bench", 2, SampleBatchBuilder.StreamingCapacity, 8, tallyEvents: true);
        OursRecordTallied();
        _many = new (string, string, string)[Events];
        for (int i = 0; i < _many.Length; i++)
        {
            _many[i] = ProductShape.Labels(i);
        }

        _tallyMany = new SampleBatchBuilder("bench", 2, SampleBatchBuilder.StreamingCapacity, 8, tallyEvents: true);
        OursRecordTalliedManyTuples();
        OursRecordTallied512Tuples();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Events)]
    public void TheirsRecord()
    {
        for (int i = 0; i < Events; i++)
        {
            (string db, string type, string status) = _labels[i & 127];
            _theirCounter.WithLabels(db, type, status).Inc();
            _theirHistogram.WithLabels(db, type, status).Observe(ProductShape.Duration(i));
        }
    }

    [Benchmark(OperationsPerInvoke = Events)]
    public void OursRecord()
    {
        for (int i = 0; i < Events; i++)
        {
            (string db, string type, string status) = _labels[i & 127];
            _counter.WithLabels(db, type, status).Add(1);
            _histogram.WithLabels(db, type, status).Observe(ProductShape.Duration(i));
        }
    }

    /// <summary>The thread-safe writes (what self-metrics use): prometheus-net's guarantee, our lookup.</summary>
    [Benchmark(OperationsPerInvoke = Events)]
    public void OursRecordAtomic()
    {
        for (int i = 0; i < Events; i++)
        {
            (string db, string type, string status) = _labels[i & 127];
            _sharedCounter.WithLabels(db, type, status).Add(1);
            _sharedHistogram.WithLabels(db, type, status).Observe(ProductShape.Duration(i));
        }
    }

    /// <summary>
    /// The product's path: both families resolved by one lookup of the event's label set
    /// (<see cref="SeriesGroup"/>), then the single-writer updates.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Events)]
    public void OursRecordGrouped()
    {
        for (int i = 0; i < Events; i++)
        {
            (string db, string type, string status) = _labels[i & 127];
            ReadOnlySpan<Series> series = _group.WithLabels(db, type, status);
            series[0].Add(1);
            series[1].Observe(ProductShape.Duration(i));
        }
    }

    /// <summary>
    /// As <see cref="OursRecordGrouped"/>, with label values that are new string instances on every
    /// event (equal characters): the lookup hashes and probes instead of hitting this thread's recent tuples.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Events)]
    public void OursRecordGroupedNewInstances()
    {
        for (int i = 0; i < Events; i++)
        {
            (string db, string type, string status) = _copies[i];
            ReadOnlySpan<Series> series = _group.WithLabels(db, type, status);
            series[0].Add(1);
            series[1].Observe(ProductShape.Duration(i));
        }
    }

    /// <summary>
    /// What a producer of the pipeline does per event (the in-process recorder, UDP and HTTP
    /// ingest): one lookup, then the event tallied by its builder (<see cref="SampleBatchBuilder.RecordEvent"/>),
    /// handed over when the builder says it is nearly full, as producers do (here every 16,384
    /// events: 128 tuples of a counter and 14 buckets stay under the held-back samples' bound),
    /// and, charged to the same events, the hand-over's whole cost: the tallies written as samples
    /// and every sample folded into its series, on this thread (an aggregator's work in the pipeline).
    /// </summary>
    [Benchmark(OperationsPerInvoke = Events)]
    public void OursRecordTallied() => Tally(_tally, _labels, 127);

    /// <summary>
    /// As <see cref="OursRecordTallied"/> with 1,024 tuples in turn, as many as a builder's tally
    /// slots (four times the 256 it had before session 8): many events take a tally over from
    /// another tuple, which emits its samples first, so this is near the tally's worst case.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Events)]
    public void OursRecordTalliedManyTuples() => Tally(_tallyMany, _many, Events - 1);

    /// <summary>
    /// As <see cref="OursRecordTalliedManyTuples"/> with 512 of those tuples in turn: more than the
    /// 256 tallies a builder had before session 8's lazily grown summary counts, half the 1,024 it has now.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Events)]
    public void OursRecordTallied512Tuples() => Tally(_tallyMany, _many, 511);

    /// <summary>Each event's tuple (<paramref name="tuples"/>[i &amp; <paramref name="mask"/>]) looked up and tallied, handed over when nearly full.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Tally(SampleBatchBuilder builder, (string Database, string Type, string Status)[] tuples, int mask)
    {
        for (int i = 0; i < Events; i++)
        {
            (string db, string type, string status) = tuples[i & mask];
            builder.RecordEvent(_group.WithLabels(db, type, status), ProductShape.Duration(i));
            if (builder.NearlyFull)
            {
                HandOver(builder);
            }
        }
    }

    private void HandOver(SampleBatchBuilder tally)
    {
        tally.BuildInto(_handedOver);
        foreach (SampleBatch batch in _handedOver)
        {
            batch.Fold();
            batch.Release();
        }
    }
}
