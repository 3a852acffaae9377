using AiShell.Pipeline.Ingest;
using AiShell.Pipeline.Metrics;
using AiShell.Pipeline.Metrics.Flow;

namespace AiShell.Pipeline.Tests.Shared;

/// <summary>
/// A registry, schema and ingestor over real shard channels that nobody drains until the test
/// calls <see cref="Drain"/>: the pipeline's fullness is under the test's control.
/// </summary>
internal sealed class IngestHarness
{
    public IngestHarness(long maxPending = 1_000_000, int limit = 10_000, string[]? drop = null)
    {
        Registry = new MetricRegistry(new MetricOptions { SeriesLimit = limit, DropLabels = drop ?? [] });
        Channels = new ShardChannels(2, maxPending);
        Schema = new EventSchema(Registry, [0.5, 1], [
            new CustomEventMetric("business_transactions", MetricType.Counter, "tx", ["type", "status"], null, "business_transactions_total"),
            new CustomEventMetric("revenue", MetricType.Gauge, "rev", ["product"], null),
            new CustomEventMetric("latency", MetricType.Histogram, "lat", ["route"], [0.1, 1, 10]),
        ], Sources);
        Ingestor = new EventIngestor(Registry, Schema, Channels);
    }

    public QuerySources Sources { get; } = new();

    public MetricRegistry Registry { get; }

    public ShardChannels Channels { get; }

    public EventSchema Schema { get; }

    public EventIngestor Ingestor { get; }

    /// <summary>Folds everything queued, as the aggregators would.</summary>
    public int Drain()
    {
        int samples = 0;
        for (int shard = 0; shard < Channels.Count; shard++)
        {
            while (Channels.Reader(shard).TryRead(out SampleBatch? batch))
            {
                samples += batch.Count;
                Channels.Release(batch.Count);
                batch.Fold();
                batch.Release();
            }
        }

        return samples;
    }

    public double Value(string family, params string[] labels)
    {
        Series s = Registry.Find("aishell_" + family)!.WithLabels(labels);
        return s.HasValue ? s.Value : double.NaN;
    }

    public long HistogramCount(string family, params string[] labels) => Registry.Find("aishell_" + family)!.WithLabels(labels).Count;

    public double HistogramSum(string family, params string[] labels) => Registry.Find("aishell_" + family)!.WithLabels(labels).Value;

    public Series Series(string family, params string[] labels) => Registry.Find("aishell_" + family)!.WithLabels(labels);
}
