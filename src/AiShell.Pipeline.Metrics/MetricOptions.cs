namespace AiShell.Pipeline.Metrics;

/// <summary>Registry-wide settings that come from config: prefix, constant labels, bucket sets.</summary>
public sealed class MetricOptions
{
    public static readonly double[] DefaultQueryDurationBuckets = [0.01, 0.05, 0.1, 0.5, 1, 5, 10];
    public static readonly double[] DefaultRequestSizeBuckets = [100, 1000, 10000, 100000, 1000000];
    public static readonly double[] DefaultHttpDurationBuckets = [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5];
    public static readonly double[] DefaultConnectionWaitBuckets = [0.0001, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5];

    /// <summary>Clock for summaries' sliding windows (tests use a fake one).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Prepended with an underscore to every family name. Default <c>aishell</c>.</summary>
    public string Prefix { get; init; } = "aishell";

    /// <summary>Labels added to every series (environment, region, cluster...), in this order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> ConstantLabels { get; init; } = [];

    /// <summary>
    /// Extra labels for every series whose <c>database</c> label has the given value (a database
    /// entry's <c>labels:</c> in config), e.g. <c>app1 → team="billing"</c>.
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyList<KeyValuePair<string, string>>> DatabaseLabels { get; init; } =
        new Dictionary<string, IReadOnlyList<KeyValuePair<string, string>>>();

    /// <summary>
    /// <c>prometheus.labels.limit</c>: distinct label sets per family. Beyond it, new sets fold into
    /// one overflow series (every label <c>__overflow__</c>) and are counted in
    /// <c>aishell_pipeline_series_overflow_total{family}</c>.
    /// </summary>
    public int SeriesLimit { get; init; } = 10_000;

    /// <summary><c>prometheus.drop_labels</c>: label names removed from every family's schema before folding.</summary>
    public IReadOnlyList<string> DropLabels { get; init; } = [];

    /// <summary>Named bucket sets (<c>query_duration</c>, <c>request_size</c>, <c>http_duration</c>).</summary>
    public IReadOnlyDictionary<string, double[]> BucketSets { get; init; } = new Dictionary<string, double[]>
    {
        ["query_duration"] = DefaultQueryDurationBuckets,
        ["request_size"] = DefaultRequestSizeBuckets,
        ["http_duration"] = DefaultHttpDurationBuckets,
        ["connection_wait"] = DefaultConnectionWaitBuckets,
    };

    public double[] ResolveBuckets(MetricDescriptor descriptor)
    {
        if (descriptor.Buckets is { } own)
        {
            return own;
        }

        string set = descriptor.BucketSet ?? "http_duration";
        return BucketSets.TryGetValue(set, out double[]? buckets) ? buckets
            : set == "http_duration" ? DefaultHttpDurationBuckets
            : set == "connection_wait" ? DefaultConnectionWaitBuckets
            : set == "batch_events" ? [1, 10, 100, 1000, 10000, 100000]
            : throw new ArgumentException($"Histogram '{descriptor.Name}' names bucket set '{set}', which is not configured.");
    }
}
