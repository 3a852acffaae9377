using System.Text;
using AiShell.Pipeline.Metrics;
using AiShell.Pipeline.Metrics.Exposition;

namespace AiShell.Pipeline.Tests.Shared;

internal static class TestRegistries
{
    public static readonly MetricDescriptor Queries = MetricDescriptor.Counter(
        "query_total", "Total number of queries executed", "database", "type", "status");

    public static readonly MetricDescriptor Duration = MetricDescriptor.Histogram(
        "query_duration_seconds", "Query execution duration", "query_duration", "database", "type", "status");

    /// <summary>The product shape used by the allocation test and the benchmark: counter + histogram per label set.</summary>
    public static MetricRegistry ProductShape(int labelSets, int buckets = 14)
    {
        double[] bounds = new double[buckets];
        for (int i = 0; i < buckets; i++)
        {
            bounds[i] = 0.0005 * Math.Pow(2, i);
        }

        var registry = new MetricRegistry(new MetricOptions
        {
            BucketSets = new Dictionary<string, double[]> { ["query_duration"] = bounds },
        });
        MetricFamily counter = registry.Register(Queries);
        MetricFamily histogram = registry.Register(Duration);
        string[] types = ["SELECT", "INSERT", "UPDATE", "DELETE", "OTHER"];
        string[] statuses = ["success", "error"];
        for (int i = 0; i < labelSets; i++)
        {
            string database = "db" + (i / (types.Length * statuses.Length));
            string type = types[i % types.Length];
            string status = statuses[i / types.Length % statuses.Length];
            counter.WithLabels(database, type, status).Add(i);
            Series h = histogram.WithLabels(database, type, status);
            h.Observe(0.001 * (i % 50));
            h.Observe(2.5);
        }

        return registry;
    }

    public static string Render(MetricRegistry registry, ExpositionFormat format)
    {
        var buffer = new ScrapeBuffer(256);
        ExpositionWriter.Write(buffer, registry, format);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
