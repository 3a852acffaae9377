using AiShell.Pipeline.Metrics;

namespace AiShell.Pipeline.Configuration;

/// <summary>The <c>prometheus:</c> section, with the defaults a new user runs first.</summary>
public sealed class ExporterConfig
{
    public const int DefaultPort = 9090;
    public const int DefaultLabelLimit = 10_000;

    /// <summary>Where the values came from: a file path, or <c>(defaults)</c>.</summary>
    public string Source { get; set; } = "(defaults)";

    /// <summary>
    /// The line each key and field was read from (<c>prometheus.databases[1].password_file</c>), so
    /// checks made after parsing (files, certificates, connection strings) point at the right line.
    /// </summary>
    internal Dictionary<string, long> Lines { get; } = new(StringComparer.Ordinal);

    /// <summary>A problem with a key or field of this config, at the line it was read from.</summary>
    public ConfigError ErrorAt(string key, string reason) => new(Source, key, reason, Lines.GetValueOrDefault(key));

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
        ["connection_wait"] = MetricOptions.DefaultConnectionWaitBuckets,
    };

    public List<CustomMetricConfig> CustomMetrics { get; } = [];

    /// <summary><c>prometheus.ingest.http</c>: accept events on POST /api/v1/events.</summary>
    public bool IngestHttp { get; set; } = true;

    /// <summary><c>prometheus.ingest.udp_port</c>: DogStatsD listener port; 0 = off.</summary>
    public int IngestUdpPort { get; set; }

    /// <summary><c>prometheus.ingest.udp_allow</c>: CIDR networks whose datagrams are taken; empty: all.</summary>
    public List<string> IngestUdpAllow { get; } = [];

    /// <summary><c>prometheus.ingest.udp_receive_buffer_bytes</c>: SO_RCVBUF of the DogStatsD socket.</summary>
    public int IngestUdpReceiveBufferBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary><c>prometheus.ingest.max_body_bytes</c>: largest event body (413 beyond).</summary>
    public int IngestMaxBodyBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary><c>prometheus.ingest.max_inflight_bytes</c>: event body bytes being read and parsed, across all requests (429 beyond).</summary>
    public int IngestMaxInflightBytes { get; set; } = 32 * 1024 * 1024;

    /// <summary><c>prometheus.max_connections</c>: open HTTP connections (more are closed at once).</summary>
    public int MaxConnections { get; set; } = 1024;

    /// <summary><c>prometheus.ingest.max_pending_samples</c>: samples in flight before ingest answers 429 / drops.</summary>
    public long MaxPendingSamples { get; set; } = 2_000_000;

    /// <summary><c>prometheus.discovery.advertise</c>: HOST:PORT others reach this instance at (default: host name and bound port).</summary>
    public string? DiscoveryAdvertise { get; set; }

    /// <summary><c>prometheus.discovery.peers</c>: other exporters (HOST:PORT) listed by /api/v1/targets.</summary>
    public List<string> DiscoveryPeers { get; } = [];

    /// <summary><c>prometheus.cluster.*</c>: databases shared across exporters (Akka.Cluster.Sharding).</summary>
    public bool ClusterEnabled { get; set; }

    public string ClusterHost { get; set; } = "0.0.0.0";

    public string ClusterPublicHost { get; set; } = "";

    public int ClusterPort { get; set; } = 4053;

    public List<string> ClusterSeedNodes { get; } = [];

    public string ClusterName { get; set; } = "aishell";

    public TimeSpan ClusterDownAfter { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary><c>prometheus.discovery.consul.address</c>: Consul agent URL; registration is off when empty.</summary>
    public string? ConsulAddress { get; set; }

    /// <summary><c>prometheus.discovery.consul.service</c>: service name registered in Consul.</summary>
    public string ConsulService { get; set; } = "aishell";

    /// <summary><c>prometheus.web</c>: TLS and who may call the endpoints (exporter-toolkit web-config shape).</summary>
    public WebConfig Web { get; } = new();

    /// <summary><c>prometheus.alerts.*</c>: thresholds of the generated alert rules.</summary>
    public AlertThresholds Alerts { get; } = new();

    /// <summary><c>prometheus.databases</c>: the PostgreSQL targets.</summary>
    public List<DatabaseConfig> Databases { get; } = [];

    /// <summary><c>prometheus.slow_query_thresholds</c>: seconds; the <c>threshold</c> label of aishell_slow_query_total.</summary>
    public double[] SlowQueryThresholds { get; set; } = [1];

    public MetricOptions ToMetricOptions()
    {
        var databaseLabels = new Dictionary<string, IReadOnlyList<KeyValuePair<string, string>>>(StringComparer.Ordinal);
        foreach (DatabaseConfig database in Databases)
        {
            if (database.Labels.Count > 0)
            {
                databaseLabels[database.Name] = database.Labels;
            }
        }

        return new MetricOptions
        {
            Prefix = Prefix,
            ConstantLabels = ConstantLabels,
            BucketSets = Buckets,
            DatabaseLabels = databaseLabels,
            SeriesLimit = LabelLimit,
            DropLabels = DropLabels,
        };
    }
}

/// <summary>
/// An entry of <c>prometheus.custom_metrics</c>. With <see cref="Query"/> it is SQL-defined: run on
/// every collect interval against <see cref="Databases"/> (all configured ones when empty), its
/// <see cref="Labels"/> columns become labels and its <c>value</c> column the sample.
/// </summary>
public sealed record CustomMetricConfig(string Name, MetricType Type, string Help, string[] Labels, double[]? Buckets,
    string? Query = null, string[]? Databases = null)
{
    /// <summary>The name as written in config (events use it); <see cref="Name"/> adds _total to counters.</summary>
    public string DeclaredName { get; init; } = Name;
}

/// <summary>Thresholds of the alerts `aishell prometheus export-rules` writes (the integration guide's values by default).</summary>
public sealed class AlertThresholds
{
    public double HighQueryRate { get; set; } = 1000;
    public double HighLatencySeconds { get; set; } = 1;
    public double HighErrorRate { get; set; } = 0.01;
    public double PoolUtilization { get; set; } = 0.9;
    public double HighCpuPercent { get; set; } = 90;
    public double HighMemoryRatio { get; set; } = 0.9;
    public double SloAvailability { get; set; } = 0.999;
}

/// <summary>
/// <c>prometheus.web</c>: <c>tls_server_config: {cert_file, key_file}</c>, <c>basic_auth_users:
/// {NAME: BCRYPT_HASH}</c> (htpasswd -nbB output), <c>bearer_tokens</c> or <c>bearer_token_file</c>,
/// and whether <c>/healthz</c> needs credentials too.
/// </summary>
public sealed class WebConfig
{
    /// <summary>The shortest bearer token taken, in the config and in bearer_token_file (AccessControl.MinTokenLength is the same rule at run time).</summary>
    public const int MinTokenLength = 16;

    public string? TlsCertFile { get; set; }
    public string? TlsKeyFile { get; set; }
    public Dictionary<string, string> BasicAuthUsers { get; } = new(StringComparer.Ordinal);
    public List<string> BearerTokens { get; } = [];
    public string? BearerTokenFile { get; set; }
    public bool ProtectHealth { get; set; }

    public bool RequiresAuth => BasicAuthUsers.Count > 0 || BearerTokens.Count > 0 || BearerTokenFile is not null;

    /// <summary>
    /// What <paramref name="next"/> weakens compared with this: access control gone, <c>/healthz</c>
    /// opened, TLS gone. Fewer users or tokens only tighten; added ones are a routine rotation.
    /// </summary>
    public List<string> WeakenedBy(WebConfig next)
    {
        ArgumentNullException.ThrowIfNull(next);
        var weakened = new List<string>();
        if (RequiresAuth && !next.RequiresAuth)
        {
            weakened.Add("access control removed (no basic_auth_users, bearer_tokens or bearer_token_file left)");
        }
        else if (RequiresAuth && ProtectHealth && !next.ProtectHealth)
        {
            weakened.Add("protect_health turned off (/healthz without credentials)");
        }

        if (TlsCertFile is not null && next.TlsCertFile is null)
        {
            weakened.Add("tls_server_config removed (plain HTTP)");
        }

        return weakened;
    }
}
