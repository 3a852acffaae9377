using AiShell.Pipeline.Metrics;
using BenchmarkDotNet.Attributes;
using Prom = Prometheus;

namespace AiShell.Pipeline.Benchmarks;

/// <summary>One scrape of the product shape: ours into a reused buffer, prometheus-net into a reused stream.</summary>
public class SerializationBenchmarks : ScrapeBenchmarks
{
    [Params(500, 5_000, 50_000)] // 1k, 10k and 100k series (a counter and a histogram per label set)
    public int LabelSets { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        Ours = new MetricRegistry(new MetricOptions
        {
            BucketSets = new Dictionary<string, double[]> { ["query_duration"] = ProductShape.Buckets },
            SeriesLimit = LabelSets, // the default cap (10,000 per family) would fold most of 50,000 label sets into one series
        });
        MetricFamily counter = Ours.Register(MetricDescriptor.Counter("query_total", "Total number of queries executed", ProductShape.LabelNames));
        MetricFamily histogram = Ours.Register(MetricDescriptor.Histogram("query_duration_seconds", "Query execution duration", "query_duration", ProductShape.LabelNames));

        Theirs = Prom.Metrics.NewCustomRegistry();
        Prom.MetricFactory factory = Prom.Metrics.WithCustomRegistry(Theirs);
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

        if (Ours.SeriesCount != 2 * LabelSets)
        {
            throw new InvalidOperationException($"ours holds {Ours.SeriesCount} series, prometheus-net {2 * LabelSets}: not the same scrape");
        }

        Prepare();
    }
}
