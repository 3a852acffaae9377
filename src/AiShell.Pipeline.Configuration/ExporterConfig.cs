using AiShell.Pipeline.Metrics;

namespace AiShell.Pipeline.Configuration;

/// <summary>The <c>prometheus:</c> section, with the defaults a new user runs first.</summary>
public sealed class ExporterConfig
{
    public const int DefaultPort = 9090;
    public const int DefaultLabelLimit = 10_000;

    /// <summary>Where the values came from: a file path, or <c>(defaults)</c>.</summary>
    public string Source { get; set; } = "(defaults)";

    public bool Enabled { get; set; } = true;
    public int Port { get; set; } = DefaultPort;
    public string Host { get; set; } = "0.0.0.0";
    public string Path { get; set; } = "/metrics";
    public TimeSpan CollectInterval { get; set; } = TimeSpan.FromSeconds(15);
    public string Prefix { get; set; } = "aishell";

    public bool MetricsQueries { get; set; } = true;
    public bool MetricsConnections { get; set; } = true;
    public bool MetricsPerformance { get; set; } = true;
    public bool MetricsSystem { get; set; } = true;
    public bool MetricsCustom { get; set; } = true;

    /// <summary>Constant labels (<c>prometheus.labels</c> minus the reserved <c>limit</c>), file order.</summary>
    public List<KeyValuePair<string, string>> ConstantLabels { get; } = [];

    /// <summary><c>prometheus.labels.limit</c>: distinct label sets per family before overflow.</summary>
    public int LabelLimit { get; set; } = DefaultLabelLimit;

    public List<string> DropLabels { get; } = [];

    public Dictionary<string, double[]> Buckets { get; } = new(StringComparer.Ordinal)
    {
        ["query_duration"] = MetricOptions.DefaultQueryDurationBuckets,
        ["request_size"] = MetricOptions.DefaultRequestSizeBuckets,
        ["http_duration"] = MetricOptions.DefaultHttpDurationBuckets,
    };

    public List<CustomMetricConfig> CustomMetrics { get; } = [];

    public MetricOptions ToMetricOptions() => new()
    {
        Prefix = Prefix,
        ConstantLabels = ConstantLabels,
        BucketSets = Buckets,
    };
}

/// <summary>An entry of <c>prometheus.custom_metrics</c>.</summary>
public sealed record CustomMetricConfig(string Name, MetricType Type, string Help, string[] Labels, double[]? Buckets);
