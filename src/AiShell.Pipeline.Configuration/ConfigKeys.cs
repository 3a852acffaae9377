using AiShell.Pipeline.Metrics;
using YamlDotNet.RepresentationModel;

namespace AiShell.Pipeline.Configuration;

/// <summary>
/// The one table of config keys: the file loader, <c>config set/get/list</c> and the reference in
/// docs/configuration.md (<see cref="ConfigReference"/>) all read it. <c>integrations.prometheus.*</c>
/// is accepted as an alias of <c>prometheus.*</c> (the integration guide's
/// <c>aishell config set integrations.prometheus.port 9090</c>).
/// </summary>
public static class ConfigKeys
{
    public const string LabelsPrefix = "prometheus.labels.";
    public const string BucketsPrefix = "prometheus.buckets.";
    private const string AliasPrefix = "integrations.";

    public static IReadOnlyList<ConfigKey> Fixed { get; } =
    [
        new("prometheus.enabled", ConfigValueKind.Bool, "`false`: `prometheus start` refuses to run (exit 1).",
            Bool((c, v) => c.Enabled = v), c => Lower(c.Enabled)),
        new("prometheus.port", ConfigValueKind.Integer, "HTTP port, 1-65535. `--port` overrides it (and also takes 0: a free port, shown on the endpoint line).",
            Int(1, 65535, (c, v) => c.Port = v), c => c.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("prometheus.host", ConfigValueKind.Text, "Bind address: `0.0.0.0` (every IPv4 interface), `localhost`, an IP, or a resolvable name.",
            Text(ValidateHost, (c, v) => c.Host = v), c => c.Host),
        new("prometheus.path", ConfigValueKind.Text, "Path of the metrics endpoint; starts with `/`, no spaces or query string; `/healthz`, `/ready` and `/api/...` are reserved.",
            Text(ValidatePath, (c, v) => c.Path = v), c => c.Path),
        new("prometheus.collect_interval", ConfigValueKind.Duration,
            "Seconds between collector runs: a number, or `500ms` / `15s` / `2m` (0.1 s to 1 day). A run longer than one interval counts as failed.",
            Duration((c, v) => c.CollectInterval = v), c => Scalars.Format(c.CollectInterval)),
        new("prometheus.prefix", ConfigValueKind.Text, "Prefix of every metric name, `[a-zA-Z_][a-zA-Z0-9_]*`.",
            Text(v => NameRules.IsValidMetricName(v) && !v.Contains(':', StringComparison.Ordinal) ? null
                : "must match [a-zA-Z_][a-zA-Z0-9_]*", (c, v) => c.Prefix = v), c => c.Prefix),
        new("prometheus.metrics.queries", ConfigValueKind.Bool, "`false`: `pg_stat_statements` is not read and query events are refused with the reason (400 over HTTP, `invalid` over UDP); `aishell_query_*`, `aishell_slow_query_total` and `aishell_postgres_stat_statements_available` leave the scrape (kept, not reset). Applies on reload.",
            Bool((c, v) => c.MetricsQueries = v), c => Lower(c.MetricsQueries)),
        new("prometheus.metrics.connections", ConfigValueKind.Bool, "`false`: `pg_stat_activity` is not read and connection and connection_error events are refused; `aishell_connections_*` and `aishell_connection_wait_seconds` leave the scrape (the exporter's own failed connects still count in `aishell_connection_errors_total`). Applies on reload.",
            Bool((c, v) => c.MetricsConnections = v), c => Lower(c.MetricsConnections)),
        new("prometheus.metrics.performance", ConfigValueKind.Bool, "`false`: `pg_stat_database`, table and index sizes, locks and replication are not read; `aishell_cache_hit_rate`, `aishell_database_size_bytes`, `aishell_transactions_total`, `aishell_tuples_total`, `aishell_deadlocks_total`, `aishell_temp_*`, `aishell_table_size_bytes`, `aishell_index_size_bytes`, `aishell_locks` and `aishell_replication_*` leave the scrape. Applies on reload.",
            Bool((c, v) => c.MetricsPerformance = v), c => Lower(c.MetricsPerformance)),
        new("prometheus.metrics.system", ConfigValueKind.Bool, "`false`: no host collector (CPU, memory, disk, network). Needs a restart.",
            Bool((c, v) => c.MetricsSystem = v), c => Lower(c.MetricsSystem)),
        new("prometheus.metrics.custom", ConfigValueKind.Bool, "`false`: the metrics declared in `custom_metrics` are neither collected nor taken as events. Needs a restart.",
            Bool((c, v) => c.MetricsCustom = v), c => Lower(c.MetricsCustom)),
        new("prometheus.ingest.http", ConfigValueKind.Bool, "Accept NDJSON events on `POST /api/v1/events` (404 when off).",
            Bool((c, v) => c.IngestHttp = v), c => Lower(c.IngestHttp)),
        new("prometheus.ingest.udp_port", ConfigValueKind.Integer, "DogStatsD UDP port on `prometheus.host`, 0-65535; 0 = off.",
            Int(0, 65535, (c, v) => c.IngestUdpPort = v), c => c.IngestUdpPort.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("prometheus.ingest.udp_allow", ConfigValueKind.NameList,
            "Networks in CIDR form (`127.0.0.1/32`, `10.0.0.0/8`, `::1/128`) whose DogStatsD datagrams are taken; others are dropped and counted (`aishell_pipeline_udp_datagrams_dropped_total{reason=\"not_allowed\"}`). Empty: every sender. UDP carries no credentials: with `prometheus.web` access control on and no allow list, a warning is logged at start.",
            ApplyUdpAllow, c => "[" + string.Join(", ", c.IngestUdpAllow) + "]"),
        new("prometheus.ingest.udp_receive_buffer_bytes", ConfigValueKind.Integer,
            "Kernel receive buffer of the DogStatsD socket, 65536-1073741824; a burst larger than it is dropped by the kernel and counted (`reason=\"kernel\"`). Linux caps it at `net.core.rmem_max`; a smaller grant is logged.",
            Int(65536, 1 << 30, (c, v) => c.IngestUdpReceiveBufferBytes = v), c => c.IngestUdpReceiveBufferBytes.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("prometheus.ingest.max_body_bytes", ConfigValueKind.Integer, "Largest event body, 1024-268435456 (inflated, for gzip); 413 beyond.",
            Int(1024, 256 * 1024 * 1024, (c, v) => c.IngestMaxBodyBytes = v), c => c.IngestMaxBodyBytes.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("prometheus.ingest.max_inflight_bytes", ConfigValueKind.Integer,
            "Event body bytes being read and parsed across all HTTP requests, 1048576-2147483647 and at least `max_body_bytes`; a request that does not fit gets 429 with Retry-After and nothing of it is counted (`rejected_total{reason=\"busy\"}`). Bodies over 64 KiB are parsed one per core. Each byte in flight costs about a byte of resident memory: the default keeps 160 concurrent 4 MiB bodies under ~135 MB.",
            Int(1024 * 1024, int.MaxValue, (c, v) => c.IngestMaxInflightBytes = v), c => c.IngestMaxInflightBytes.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("prometheus.max_connections", ConfigValueKind.Integer,
            "Open HTTP connections, 16-1000000; one more is closed at once. Lowered to the open-file limit less 256 when that is smaller (logged), so a flood of idle connections never takes the files the exporter needs.",
            Int(16, 1_000_000, (c, v) => c.MaxConnections = v), c => c.MaxConnections.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("prometheus.ingest.max_pending_samples", ConfigValueKind.Integer,
            "Samples accepted but not yet folded (about 40 bytes each), 1000-100000000. When spent: collectors wait, HTTP answers 429, UDP drops and counts.",
            Int(1000, 100_000_000, (c, v) => c.MaxPendingSamples = v), c => c.MaxPendingSamples.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("prometheus.web", ConfigValueKind.Structured,
            "TLS and access control in the exporter-toolkit web-config shape: `tls_server_config: {cert_file, key_file}` (PEM; picked up again within a second when the files change; a broken pair is logged and the working certificate kept), `basic_auth_users: {NAME: BCRYPT_HASH}` (what `htpasswd -nbB NAME PASSWORD` prints), `bearer_tokens: [..]` (16+ characters each) and/or `bearer_token_file` (one token per line, 16+ characters, re-read when it changes), `protect_health` (default false: `/healthz` stays open for liveness probes). Applies to `/metrics`, `/ready` and `/api/v1/*`. A reload that removes or weakens any of it is held until SIGHUP. `config get prometheus.web` shows counts, never hashes or tokens.",
            WebConfigParser.Apply, WebConfigParser.Show),
        new("prometheus.discovery.advertise", ConfigValueKind.Text,
            "HOST:PORT this instance is reached at, as peers, file_sd and Consul publish it. Default: the host name (or bind address) and the bound port.",
            Text(v => IsHostPort(v) ? null : "must be HOST:PORT", (c, v) => c.DiscoveryAdvertise = v), c => c.DiscoveryAdvertise ?? ""),
        new("prometheus.discovery.peers", ConfigValueKind.NameList, "Other exporters (HOST:PORT list) that `/api/v1/targets` lists beside this one.",
            HostPorts(static c => c.DiscoveryPeers), c => "[" + string.Join(", ", c.DiscoveryPeers) + "]"),
        new("prometheus.cluster.enabled", ConfigValueKind.Bool,
            "`true`: this exporter is a cluster member (Akka.Cluster): every member has the same `databases`, and each database is collected by exactly one live member, taken over when that member leaves or dies. `false` (default): single node, nothing of the cluster is started. Needs a restart.",
            Bool((c, v) => c.ClusterEnabled = v), c => Lower(c.ClusterEnabled)),
        new("prometheus.cluster.host", ConfigValueKind.Text, "Bind address of the cluster's remoting port. Needs a restart.",
            Text(ValidateHost, (c, v) => c.ClusterHost = v), c => c.ClusterHost),
        new("prometheus.cluster.public_host", ConfigValueKind.Text,
            "Address the other members reach this one at, exactly as their `seed_nodes` name it (Akka drops messages addressed to another name of the same member). Default: `host`, or this host's fully qualified name (`hostname -f`; a StatefulSet pod's `NAME-N.SERVICE.NAMESPACE.svc.cluster.local`) when `host` is `0.0.0.0`. Needs a restart.",
            Text(v => v.Length == 0 ? null
                : v is "0.0.0.0" or "::" or "*" ? "must be an address the other members can reach, not a wildcard"
                : ValidateHost(v) is null ? null : "must be a host name or an IP", (c, v) => c.ClusterPublicHost = v), c => c.ClusterPublicHost),
        new("prometheus.cluster.port", ConfigValueKind.Integer, "Remoting port, 1-65535 (default 4053). Needs a restart.",
            Int(1, 65535, (c, v) => c.ClusterPort = v), c => c.ClusterPort.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("prometheus.cluster.seed_nodes", ConfigValueKind.NameList,
            "HOST:PORT of the members a starting member contacts to join (the same list on every member; the first one listed starts the cluster when none runs yet). At least one when the cluster is on. Needs a restart.",
            HostPorts(static c => c.ClusterSeedNodes), c => "[" + string.Join(", ", c.ClusterSeedNodes) + "]"),
        new("prometheus.cluster.name", ConfigValueKind.Text,
            "Cluster name, `[a-zA-Z0-9][a-zA-Z0-9_-]*` (default `aishell`): members with another name never join. Needs a restart.",
            Text(v => v.Length > 0 && char.IsAsciiLetterOrDigit(v[0]) && v.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_') ? null
                : "must match [a-zA-Z0-9][a-zA-Z0-9_-]*", (c, v) => c.ClusterName = v), c => c.ClusterName),
        new("prometheus.cluster.down_after", ConfigValueKind.Duration,
            "How long a member must stay unreachable before the others remove it and take over its databases (split-brain resolver `stable-after`, keep-majority; 1s to 1 day, default 5s). A member that itself did not run for this long (stopped, frozen) withholds `/metrics` and exits with code 3. Needs a restart.",
            Duration((c, v) => c.ClusterDownAfter = v, TimeSpan.FromSeconds(1)), c => Scalars.Format(c.ClusterDownAfter)),
        new("prometheus.discovery.consul.address", ConfigValueKind.Text,
            "Consul agent URL (`http://127.0.0.1:8500`): register on start, deregister on stop. Empty: off.",
            Text(v => Uri.TryCreate(v, UriKind.Absolute, out Uri? u) && u.Scheme is "http" or "https" ? null : "must be an http(s) URL",
                (c, v) => c.ConsulAddress = v), c => c.ConsulAddress ?? ""),
        new("prometheus.discovery.consul.service", ConfigValueKind.Text, "Service name registered in Consul: letters, digits, `-` or `_`.",
            Text(v => v.Length > 0 && v.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_') ? null : "must be letters, digits, - or _",
                (c, v) => c.ConsulService = v), c => c.ConsulService),
        Alert("high_query_rate", "Queries per second per database above which HighQueryRate fires.",
            (c, v) => c.Alerts.HighQueryRate = v, c => c.Alerts.HighQueryRate, max: 1e12),
        Alert("high_latency_seconds", "p95 query latency (seconds) above which HighLatency fires.",
            (c, v) => c.Alerts.HighLatencySeconds = v, c => c.Alerts.HighLatencySeconds, max: 86400),
        Alert("high_error_rate", "Share of failed queries (0-1) above which HighErrorRate fires.",
            (c, v) => c.Alerts.HighErrorRate = v, c => c.Alerts.HighErrorRate, max: 1),
        Alert("pool_utilization", "active / pool_size (0-1) above which ConnectionPoolExhausted fires.",
            (c, v) => c.Alerts.PoolUtilization = v, c => c.Alerts.PoolUtilization, max: 1),
        Alert("high_cpu_percent", "CPU percent above which HighCPU fires.",
            (c, v) => c.Alerts.HighCpuPercent = v, c => c.Alerts.HighCpuPercent, max: 100),
        Alert("high_memory_ratio", "Memory in use (0-1) above which HighMemory fires.",
            (c, v) => c.Alerts.HighMemoryRatio = v, c => c.Alerts.HighMemoryRatio, max: 1),
        Alert("slo_availability", "Successful share of queries (0-1) below which SLOViolation fires.",
            (c, v) => c.Alerts.SloAvailability = v, c => c.Alerts.SloAvailability, max: 1),
        new("prometheus.labels.limit", ConfigValueKind.Integer,
            "Reserved under `labels` (not a constant label): distinct label sets per family, 1-1000000; more fold into one overflow series, counted.",
            Int(1, 1_000_000, (c, v) => c.LabelLimit = v), c => c.LabelLimit.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("prometheus.drop_labels", ConfigValueKind.NameList,
            "Label names removed from every family before folding (their values merge): a list, or a comma-separated string (`\"user_id,session_id\"`).",
            ApplyDropLabels, c => "[" + string.Join(", ", c.DropLabels) + "]"),
        new("prometheus.slow_query_thresholds", ConfigValueKind.NumberList,
            "Seconds, distinct and positive; a statement slower than a threshold counts in `aishell_slow_query_total{threshold}`.",
            ApplySlowThresholds, c => "[" + string.Join(", ", c.SlowQueryThresholds.Select(Scalars.Format)) + "]"),
        new("prometheus.databases", ConfigValueKind.Structured,
            "PostgreSQL targets, each: `name` (required, the `database` label), `connection_string` (required, Npgsql `KEY=VALUE;...` syntax), `password_file` or `password_env` (override any password in the string; a file's trailing newline is dropped), `labels`, `statement_timeout` (10ms-10m, default 5s; set server-side for every session, with the client command timeout 2 s above it), `top_tables` (0-10000, default 20), `query_source` (`auto`, `events` or `statements`, default `auto`), `auto_discover` with `include`/`exclude` patterns (`*` wildcard). Discovery runs at start and for entries a reload adds or changes; a server unreachable then is monitored as the entry itself until restart. Entries are added, removed and changed by a reload, except their `labels`. Edited in the file, not with `config set`.",
            DatabasesParser.Apply, DatabasesParser.Show),
        new("prometheus.custom_metrics", ConfigValueKind.Structured,
            "Declared custom metrics: `name`, `type` (`counter`, `gauge` or `histogram`), `help` (required), `labels`, `buckets` (histograms); with `query` (counter or gauge only) they are SQL-defined, run every collect interval, and get a `database` label, `databases` limiting them to named entries. Without `query` they are fed by events. Edited in the file, not with `config set`.",
            CustomMetricsParser.Apply, CustomMetricsParser.Show),
    ];

    /// <summary>Maps an alias to its canonical path.</summary>
    public static string Canonical(string path) =>
        path.StartsWith(AliasPrefix + "prometheus.", StringComparison.Ordinal) ? path[AliasPrefix.Length..] : path;

    /// <summary>Finds a key, including the open families <c>prometheus.labels.NAME</c> and <c>prometheus.buckets.NAME</c>.</summary>
    public static ConfigKey? Find(string path)
    {
        path = Canonical(path);
        foreach (ConfigKey key in Fixed)
        {
            if (key.Path == path)
            {
                return key;
            }
        }

        if (path.StartsWith(LabelsPrefix, StringComparison.Ordinal))
        {
            string name = path[LabelsPrefix.Length..];
            return NameRules.IsValidLabelName(name) ? ConstantLabel(name) : null;
        }

        if (path.StartsWith(BucketsPrefix, StringComparison.Ordinal))
        {
            string name = path[BucketsPrefix.Length..];
            return NameRules.IsValidLabelName(name) ? BucketSet(name) : null;
        }

        return null;
    }

    private static ConfigKey ConstantLabel(string name) => new(LabelsPrefix + name, ConfigValueKind.Text,
        "A constant label on every series (`prometheus.labels.team: billing`).",
        Text(_ => null, (c, v) =>
        {
            c.ConstantLabels.RemoveAll(kv => kv.Key == name);
            c.ConstantLabels.Add(new(name, v));
        }),
        c => c.ConstantLabels.Find(kv => kv.Key == name).Value ?? "");

    private static ConfigKey BucketSet(string name) => new(BucketsPrefix + name, ConfigValueKind.NumberList,
        "Histogram bucket upper bounds, strictly increasing, for a named set (`query_duration`, `request_size`, `http_duration`, `connection_wait`, or a custom metric's).",
        (c, node) =>
        {
            string? error = ReadNumbers(node, out double[] bounds);
            if (error is not null)
            {
                return error;
            }

            for (int i = 0; i < bounds.Length; i++)
            {
                if (i > 0 && bounds[i] <= bounds[i - 1])
                {
                    return "bucket bounds must be strictly increasing";
                }
            }

            if (bounds.Length == 0)
            {
                return "needs at least one bucket bound";
            }

            c.Buckets[name] = bounds;
            return null;
        },
        c => c.Buckets.TryGetValue(name, out double[]? b) ? "[" + string.Join(", ", b.Select(Scalars.Format)) + "]" : "");

    private static ConfigKey Alert(string name, string description, Action<ExporterConfig, double> set, Func<ExporterConfig, double> get, double max) =>
        new("prometheus.alerts." + name, ConfigValueKind.Text, description,
            (c, node) => node is YamlScalarNode { Value: { } t } && Scalars.TryDouble(t, out double v)
                ? v > 0 && v <= max ? Do(() => set(c, v)) : $"{Scalars.Format(v)} is out of range (0, {Scalars.Format(max)}]"
                : $"'{Describe(node)}' is not a number",
            c => Scalars.Format(get(c)));

    private static bool IsHostPort(string v)
    {
        int colon = v.LastIndexOf(':');
        return colon > 0 && int.TryParse(v[(colon + 1)..], out int port) && port is > 0 and <= 65535 && !v[..colon].Any(char.IsWhiteSpace);
    }

    private static Func<ExporterConfig, YamlNode, string?> HostPorts(Func<ExporterConfig, List<string>> list) =>
        (config, node) => ApplyHostPorts(list(config), node);

    private static string? ApplyHostPorts(List<string> into, YamlNode node)
    {
        var peers = new List<string>();
        if (node is YamlSequenceNode seq)
        {
            peers.AddRange(seq.Select(Describe));
        }
        else if (node is YamlScalarNode { Value: { } text })
        {
            peers.AddRange(text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }
        else
        {
            return "must be a list of HOST:PORT";
        }

        foreach (string peer in peers)
        {
            if (!IsHostPort(peer))
            {
                return $"'{peer}' is not HOST:PORT";
            }
        }

        into.Clear();
        into.AddRange(peers);
        return null;
    }

    private static string? ApplyUdpAllow(ExporterConfig config, YamlNode node)
    {
        List<string> networks = node switch
        {
            YamlSequenceNode seq => [.. seq.Select(Describe)],
            YamlScalarNode { Value: { } text } => [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)],
            _ => [],
        };
        if (node is not (YamlSequenceNode or YamlScalarNode))
        {
            return "must be a list of networks in CIDR form (127.0.0.1/32, 10.0.0.0/8, ::1/128)";
        }

        foreach (string network in networks)
        {
            if (!System.Net.IPNetwork.TryParse(network, out _))
            {
                return $"'{network}' is not a network in CIDR form (ADDRESS/BITS with the host bits zero, e.g. 10.0.0.0/8)";
            }
        }

        config.IngestUdpAllow.Clear();
        config.IngestUdpAllow.AddRange(networks);
        return null;
    }

    private static string? ApplySlowThresholds(ExporterConfig config, YamlNode node)
    {
        string? error = ReadNumbers(node, out double[] thresholds);
        if (error is not null)
        {
            return error;
        }

        if (thresholds.Length == 0 || thresholds.Any(t => t <= 0) || thresholds.Distinct().Count() != thresholds.Length)
        {
            return "needs one or more distinct positive numbers of seconds";
        }

        config.SlowQueryThresholds = [.. thresholds.Order()];
        return null;
    }

    internal static string? ReadNumbers(YamlNode node, out double[] numbers)
    {
        numbers = [];
        if (node is not YamlSequenceNode sequence)
        {
            return "must be a list of numbers, e.g. [0.01, 0.1, 1]";
        }

        var list = new List<double>();
        foreach (YamlNode item in sequence)
        {
            if (item is not YamlScalarNode { Value: { } text } || !Scalars.TryDouble(text, out double n))
            {
                return $"'{Describe(item)}' is not a number";
            }

            list.Add(n);
        }

        numbers = [.. list];
        return null;
    }

    private static string? ApplyDropLabels(ExporterConfig config, YamlNode node)
    {
        var names = new List<string>();
        if (node is YamlScalarNode { Value: { } text })
        {
            names.AddRange(text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }
        else if (node is YamlSequenceNode sequence)
        {
            foreach (YamlNode item in sequence)
            {
                names.Add(item is YamlScalarNode { Value: { } v } ? v : "");
            }
        }
        else
        {
            return "must be a list of label names or a comma-separated string";
        }

        foreach (string name in names)
        {
            if (!NameRules.IsValidLabelName(name))
            {
                return $"'{name}' is not a valid label name";
            }
        }

        config.DropLabels.Clear();
        config.DropLabels.AddRange(names);
        return null;
    }

    private static string? ValidateHost(string host) =>
        host.Length == 0 || host.Any(char.IsWhiteSpace) ? "must be a host name or IP address" : null;

    private static string? ValidatePath(string path) =>
        !path.StartsWith('/') || path.Any(char.IsWhiteSpace) || path.Contains('?', StringComparison.Ordinal)
            ? "must start with '/' and contain no spaces or query string"
            : path is "/healthz" or "/ready" || path.StartsWith("/api/", StringComparison.Ordinal)
                ? "is reserved for the exporter's own endpoints"
                : null;

    private static Func<ExporterConfig, YamlNode, string?> Bool(Action<ExporterConfig, bool> set) => (c, node) =>
        node is YamlScalarNode { Value: { } t } && Scalars.TryBool(t, out bool v) ? Do(() => set(c, v))
            : $"'{Describe(node)}' is not a boolean (true/false)";

    private static Func<ExporterConfig, YamlNode, string?> Int(int min, int max, Action<ExporterConfig, int> set) => (c, node) =>
        node is YamlScalarNode { Value: { } t } && Scalars.TryInt(t, out int v)
            ? v >= min && v <= max ? Do(() => set(c, v)) : $"{v} is out of range {min}-{max}"
            : $"'{Describe(node)}' is not a whole number";

    private static Func<ExporterConfig, YamlNode, string?> Duration(Action<ExporterConfig, TimeSpan> set, TimeSpan? least = null) => (c, node) =>
        node is YamlScalarNode { Value: { } t } && Scalars.TryDuration(t, out TimeSpan v)
            ? v >= (least ?? TimeSpan.FromMilliseconds(100)) && v <= TimeSpan.FromDays(1) ? Do(() => set(c, v))
                : $"{Scalars.Format(v)}s is out of range ({Scalars.Format(least ?? TimeSpan.FromMilliseconds(100))}s to 1 day)"
            : $"'{Describe(node)}' is not a number of seconds (e.g. 15, 15s, 500ms)";

    private static Func<ExporterConfig, YamlNode, string?> Text(Func<string, string?> validate, Action<ExporterConfig, string> set) =>
        (c, node) =>
        {
            if (node is not YamlScalarNode { Value: { } t })
            {
                return "must be a single value";
            }

            string? error = validate(t);
            return error is null ? Do(() => set(c, t)) : $"'{t}' {error}";
        };

    private static string? Do(Action action)
    {
        action();
        return null;
    }

    private static string Lower(bool value) => value ? "true" : "false";

    internal static string Describe(YamlNode node) => node switch
    {
        YamlScalarNode s => s.Value ?? "",
        YamlSequenceNode => "(a list)",
        YamlMappingNode => "(a mapping)",
        _ => "?",
    };
}
