namespace AiShell.Pipeline.Metrics;

/// <summary>
/// What a metric family is: its name without the configured prefix (<c>query_total</c>), help text,
/// type and label names. Histogram buckets come from <see cref="Buckets"/> or, when null, from the
/// options' bucket set named <see cref="BucketSet"/>.
/// </summary>
public sealed record MetricDescriptor(
    string Name,
    string Help,
    MetricType Type,
    string[] LabelNames,
    string? BucketSet = null,
    double[]? Buckets = null)
{
    public static MetricDescriptor Counter(string name, string help, params string[] labels) =>
        new(name, help, MetricType.Counter, labels);

    public static MetricDescriptor Gauge(string name, string help, params string[] labels) =>
        new(name, help, MetricType.Gauge, labels);

    public static MetricDescriptor Histogram(string name, string help, string bucketSet, params string[] labels) =>
        new(name, help, MetricType.Histogram, labels, bucketSet);

    /// <summary>A summary: <paramref name="quantiles"/> over a sliding <see cref="Window"/>.</summary>
    public static MetricDescriptor Summary(string name, string help, double[] quantiles, TimeSpan window, params string[] labels) =>
        new(name, help, MetricType.Summary, labels, Buckets: quantiles) { Window = window };

    /// <summary>Summary only: the sliding window the quantiles cover.</summary>
    public TimeSpan Window { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The family's write mode, declared once here. False (most families): one writer per series,
    /// the aggregator that owns its shard, with plain stores. True: written from several threads
    /// (HTTP handlers, supervisors, collectors, and possibly the pipeline as well), so every
    /// <see cref="Series.Add"/> and <see cref="Series.Observe(double)"/> is an atomic read-modify-write.
    /// </summary>
    public bool SharedWrites { get; init; }
}
