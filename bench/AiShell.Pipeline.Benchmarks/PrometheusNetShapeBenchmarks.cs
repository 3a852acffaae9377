using AiShell.Pipeline.Metrics;
using BenchmarkDotNet.Attributes;
using Prom = Prometheus;

namespace AiShell.Pipeline.Benchmarks;

/// <summary>
/// The shape of prometheus-net's own SerializationBenchmarks: 100 metric names for each of counter,
/// gauge, summary (quantiles 0.5, 0.9, 0.99) and histogram (prometheus-net's 14 default buckets),
/// each with 100 label sets of 5 labels: 40,000 series, 240,000 sample lines. Ours and theirs hold
/// the same values, written the same way, and serialize into reused buffers.
/// </summary>
public class PrometheusNetShapeBenchmarks : ScrapeBenchmarks
{
    private const int Names = 100;
    private const int Variants = 100;
    private static readonly string[] LabelNames = ["label0", "label1", "label2", "label3", "label4"];
    private static readonly double[] Quantiles = [0.5, 0.9, 0.99];
    private static readonly double[] DefaultBuckets = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];


    [GlobalSetup]
    public void Setup()
    {
        Ours = new MetricRegistry(new MetricOptions { Prefix = "bench" });
        Theirs = Prom.Metrics.NewCustomRegistry();
        Prom.MetricFactory factory = Prom.Metrics.WithCustomRegistry(Theirs);
        var objectives = new List<Prom.QuantileEpsilonPair> { new(0.5, 0.05), new(0.9, 0.01), new(0.99, 0.005) };
        string[][] variants = new string[Variants][];
        for (int v = 0; v < Variants; v++)
        {
            variants[v] = [.. LabelNames.Select(l => $"{l}_value_{v}")];
        }

        for (int n = 0; n < Names; n++)
        {
            MetricFamily counter = Ours.Register(MetricDescriptor.Counter($"counter_{n}_total", "A counter.", LabelNames));
            MetricFamily gauge = Ours.Register(MetricDescriptor.Gauge($"gauge_{n}", "A gauge.", LabelNames));
            MetricFamily summary = Ours.Register(MetricDescriptor.Summary($"summary_{n}", "A summary.", Quantiles, TimeSpan.FromMinutes(10), LabelNames));
            MetricFamily histogram = Ours.Register(new MetricDescriptor($"histogram_{n}", "A histogram.", MetricType.Histogram, LabelNames, Buckets: DefaultBuckets));

            Prom.Counter theirCounter = factory.CreateCounter($"bench_counter_{n}_total", "A counter.", LabelNames);
            Prom.Gauge theirGauge = factory.CreateGauge($"bench_gauge_{n}", "A gauge.", LabelNames);
            Prom.Summary theirSummary = factory.CreateSummary($"bench_summary_{n}", "A summary.",
                new Prom.SummaryConfiguration { LabelNames = LabelNames, Objectives = objectives, MaxAge = TimeSpan.FromMinutes(10) });
            Prom.Histogram theirHistogram = factory.CreateHistogram($"bench_histogram_{n}", "A histogram.",
                new Prom.HistogramConfiguration { LabelNames = LabelNames, Buckets = DefaultBuckets });

            foreach (string[] labels in variants)
            {
                Series c = counter.WithLabels(labels);
                Series g = gauge.WithLabels(labels);
                Series s = summary.WithLabels(labels);
                Series h = histogram.WithLabels(labels);
                for (int k = 1; k <= 3; k++)
                {
                    c.Add(k);
                    theirCounter.WithLabels(labels).Inc(k);
                    s.Observe(0.01 * k);
                    theirSummary.WithLabels(labels).Observe(0.01 * k);
                    h.Observe(0.3 * k);
                    theirHistogram.WithLabels(labels).Observe(0.3 * k);
                }

                g.Set(n);
                theirGauge.WithLabels(labels).Set(n);
            }
        }

        if (Ours.SeriesCount != 4 * Names * Variants)
        {
            throw new InvalidOperationException($"ours holds {Ours.SeriesCount} series, prometheus-net {4 * Names * Variants}: not the same scrape");
        }

        Prepare();
    }
}
