using AiShell.Pipeline.Metrics;
using AiShell.Pipeline.Metrics.Exposition;
using BenchmarkDotNet.Attributes;
using Prom = Prometheus;

namespace AiShell.Pipeline.Benchmarks;

/// <summary>One scrape of the product shape: ours into a reused buffer, prometheus-net into a reused stream.</summary>
[MemoryDiagnoser]
public class SerializationBenchmarks
{
    private MetricRegistry _ours = null!;
    private ScrapeBuffer _buffer = null!;
    private Prom.CollectorRegistry _theirs = null!;
    private MemoryStream _stream = null!;

    [Params(500, 5_000, 50_000)] // 1k, 10k and 100k series (a counter and a histogram per label set)
    public int LabelSets { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _ours = new MetricRegistry(new MetricOptions
        {
            BucketSets = new Dictionary<string, double[]> { ["query_duration"] = ProductShape.Buckets },
        });
        MetricFamily counter = _ours.Register(MetricDescriptor.Counter("query_total", "Total number of queries executed", ProductShape.LabelNames));
        MetricFamily histogram = _ours.Register(MetricDescriptor.Histogram("query_duration_seconds", "Query execution duration", "query_duration", ProductShape.LabelNames));

        _theirs = Prom.Metrics.NewCustomRegistry();
        Prom.MetricFactory factory = Prom.Metrics.WithCustomRegistry(_theirs);
        Prom.Counter theirCounter = factory.CreateCounter("aishell_query_total", "Total number of queries executed", ProductShape.LabelNames);
        Prom.Histogram theirHistogram = factory.CreateHistogram("aishell_query_duration_seconds", "Query execution duration",
            new Prom.HistogramConfiguration { LabelNames = ProductShape.LabelNames, Buckets = ProductShape.Buckets });

        for (int i = 0; i < LabelSets; i++)
        {
            (string db, string type, string status) = ProductShape.Labels(i);
            Series c = counter.WithLabels(db, type, status);
            Series h = histogram.WithLabels(db, type, status);
            Prom.Counter.Child tc = theirCounter.WithLabels(db, type, status);
            Prom.Histogram.Child th = theirHistogram.WithLabels(db, type, status);
            for (int k = 0; k < 3; k++)
            {
                c.Add(1 + k);
                tc.Inc(1 + k);
                h.Observe(ProductShape.Duration(i + k));
                th.Observe(ProductShape.Duration(i + k));
            }
        }

        _buffer = new ScrapeBuffer();
        _stream = new MemoryStream();
        OursText();
        TheirsText();
    }

    [Benchmark(Baseline = true)]
    public int TheirsText()
    {
        _stream.Position = 0;
        _theirs.CollectAndExportAsTextAsync(_stream, Prom.ExpositionFormat.PrometheusText).GetAwaiter().GetResult();
        return (int)_stream.Position;
    }

    [Benchmark]
    public int OursText()
    {
        _buffer.Reset();
        ExpositionWriter.Write(_buffer, _ours, ExpositionFormat.Text);
        return _buffer.Length;
    }

    [Benchmark]
    public int TheirsOpenMetrics()
    {
        _stream.Position = 0;
        _theirs.CollectAndExportAsTextAsync(_stream, Prom.ExpositionFormat.OpenMetricsText).GetAwaiter().GetResult();
        return (int)_stream.Position;
    }

    [Benchmark]
    public int OursOpenMetrics()
    {
        _buffer.Reset();
        ExpositionWriter.Write(_buffer, _ours, ExpositionFormat.OpenMetrics);
        return _buffer.Length;
    }
}
