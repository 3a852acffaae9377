using AiShell.Pipeline.Metrics;

namespace AiShell.Pipeline.Configuration.Tests;

public sealed class ConfigLoaderTests
{
    /// <summary>The seed document's example config, verbatim.</summary>
    private const string SeedYaml = """
        prometheus:
          enabled: true
          port: 9090
          path: /metrics
          host: 0.0.0.0

          # Metric collection
          collect_interval: 15  # seconds

          # Metrics to export
          metrics:
            queries: true
            connections: true
            performance: true
            system: true
            custom: true

          # Label configuration
          labels:
            environment: production
            region: us-west-2
            cluster: main

          # Metric naming
          prefix: aishell

          # Buckets for histograms
          buckets:
            query_duration: [0.01, 0.05, 0.1, 0.5, 1, 5, 10]
            request_size: [100, 1000, 10000, 100000, 1000000]

          # Custom metrics
          custom_metrics:
            - name: business_transactions
              type: counter
              help: "Total business transactions"
              labels: [type, status]
            - name: revenue
              type: gauge
              help: "Current revenue"
              labels: [product]
        """;

    [Fact]
    public void SeedExample_LoadsWithEveryValue()
    {
        ExporterConfig c = ConfigLoader.Parse(SeedYaml, "seed.yaml");
        Assert.True(c.Enabled);
        Assert.Equal(9090, c.Port);
        Assert.Equal("/metrics", c.Path);
        Assert.Equal("0.0.0.0", c.Host);
        Assert.Equal(TimeSpan.FromSeconds(15), c.CollectInterval);
        Assert.True(c.MetricsQueries && c.MetricsConnections && c.MetricsPerformance && c.MetricsSystem && c.MetricsCustom);
        Assert.Equal(["environment", "region", "cluster"], c.ConstantLabels.Select(kv => kv.Key).ToArray());
        Assert.Equal("us-west-2", c.ConstantLabels[1].Value);
        Assert.Equal([0.01, 0.05, 0.1, 0.5, 1, 5, 10], c.Buckets["query_duration"]);
        Assert.Equal(2, c.CustomMetrics.Count);
        Assert.Equal(new[] { "type", "status" }, c.CustomMetrics[0].Labels);
        Assert.Equal(MetricType.Gauge, c.CustomMetrics[1].Type);
    }

    [Fact]
    public void EmptyDocument_GivesDefaults()
    {
        ExporterConfig c = ConfigLoader.Parse("", "empty.yaml");
        Assert.Equal(9090, c.Port);
        Assert.Equal("0.0.0.0", c.Host);
        Assert.Equal("/metrics", c.Path);
        Assert.Equal(TimeSpan.FromSeconds(15), c.CollectInterval);
        Assert.Equal("aishell", c.Prefix);
    }

    [Fact]
    public void UnknownKeysAndBadValues_AreAllReported_WithFileLineAndKey()
    {
        const string yaml = """
            prometheus:
              port: 70000
              colect_interval: 5
              metrics:
                system: maybe
              labels:
                limit: zero
            """;
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml, "/etc/bad.yaml"));
        Assert.Equal(4, ex.Errors.Count);
        Assert.Contains(ex.Errors, e => e.Key == "prometheus.port" && e.Reason.Contains("out of range", StringComparison.Ordinal) && e.Line == 2);
        Assert.Contains(ex.Errors, e => e.Key == "prometheus.colect_interval" && e.Reason == "unknown key" && e.Line == 3);
        Assert.Contains(ex.Errors, e => e.Key == "prometheus.metrics.system" && e.Reason.Contains("boolean", StringComparison.Ordinal));
        Assert.Contains(ex.Errors, e => e.Key == "prometheus.labels.limit" && e.Reason.Contains("whole number", StringComparison.Ordinal));
        Assert.Contains("/etc/bad.yaml:2: prometheus.port: 70000 is out of range 1-65535", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("prometheus:\n  collect_interval: fast\n", "prometheus.collect_interval")]
    [InlineData("prometheus:\n  collect_interval: 0\n", "prometheus.collect_interval")]
    [InlineData("prometheus:\n  path: metrics\n", "prometheus.path")]
    [InlineData("prometheus:\n  path: /healthz\n", "prometheus.path")]
    [InlineData("prometheus:\n  prefix: ai-shell\n", "prometheus.prefix")]
    [InlineData("prometheus:\n  buckets:\n    query_duration: [1, 0.5]\n", "prometheus.buckets.query_duration")]
    [InlineData("prometheus:\n  drop_labels: \"user_id,bad-name\"\n", "prometheus.drop_labels")]
    [InlineData("prometheus:\n  custom_metrics:\n    - name: x\n      type: summary\n      help: h\n", "prometheus.custom_metrics[0].type")]
    [InlineData("prometheus:\n  custom_metrics:\n    - name: x\n      type: counter\n", "prometheus.custom_metrics[0].help")]
    [InlineData("prometheus:\n  labels:\n    bad-label: x\n", "prometheus.labels.bad-label")]
    [InlineData("grafana:\n  port: 1\n", "grafana")]
    [InlineData("prometheus:\n  cluster:\n    enabled: true\n", "prometheus.cluster.seed_nodes")]
    [InlineData("prometheus:\n  cluster:\n    seed_nodes: [db1]\n", "prometheus.cluster.seed_nodes")]
    [InlineData("prometheus:\n  cluster:\n    public_host: 0.0.0.0\n", "prometheus.cluster.public_host")]
    [InlineData("prometheus:\n  cluster:\n    down_after: 500ms\n", "prometheus.cluster.down_after")]
    [InlineData("prometheus:\n  cluster:\n    name: -x\n", "prometheus.cluster.name")]
    [InlineData("prometheus:\n  cluster:\n    port: 0\n", "prometheus.cluster.port")]
    public void BadValues_NameTheKey(string yaml, string key)
    {
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml, "f.yaml"));
        Assert.Contains(ex.Errors, e => e.Key == key);
    }

    [Fact]
    public void SyntaxError_IsReportedWithLine()
    {
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Parse("prometheus:\n  port: [1,\n", "f.yaml"));
        Assert.Equal("(syntax)", ex.Errors[0].Key);
        Assert.True(ex.Errors[0].Line > 0);
    }

    [Fact]
    public void ATabInTheIndentation_IsNamedAtItsOwnLine()
    {
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Parse("prometheus:\n  port: 9100\n\tpath: /m\n", "f.yaml"));
        Assert.Equal(3, ex.Errors[0].Line);
        Assert.Contains("tab in the indentation", ex.Errors[0].Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("prometheus:\n  port: 9100\n  ingest:\n    udp_allow: [127.0.0.1/32\n  path: /m\n", 4, '[')]
    [InlineData("prometheus:\n  labels: {env: prod\n  port: 9100\n", 2, '{')]
    public void AnUnclosedBracket_IsNamedWhereItOpens(string yaml, int line, char bracket)
    {
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml, "f.yaml"));
        Assert.Equal(line, ex.Errors[0].Line);
        Assert.Contains($"'{bracket}' opened on this line is never closed", ex.Errors[0].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void BracketsInQuotesAndComments_AreNotTakenForUnclosedOnes() =>
        Assert.Null(ConfigLoader.LikelyCause("prometheus:\n  path: \"/[x\"   # a [ in a comment\n  labels: {a: '{'}\n"));

    [Theory]
    [InlineData("15", 15)]
    [InlineData("2.5", 2.5)]
    [InlineData("500ms", 0.5)]
    [InlineData("30s", 30)]
    [InlineData("2m", 120)]
    public void CollectInterval_AcceptsSecondsOrUnits(string value, double seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), ConfigLoader.Parse($"prometheus:\n  collect_interval: {value}\n", "f").CollectInterval);

    [Fact]
    public void DropLabels_AcceptsTheSeedsCommaStringOrAList()
    {
        Assert.Equal(["user_id", "session_id"], ConfigLoader.Parse("prometheus:\n  drop_labels: \"user_id,session_id\"\n", "f").DropLabels);
        Assert.Equal(["user_id"], ConfigLoader.Parse("prometheus:\n  drop_labels: [user_id]\n", "f").DropLabels);
    }

    [Fact]
    public void LabelsLimit_IsReserved_NotAConstantLabel()
    {
        ExporterConfig c = ConfigLoader.Parse("prometheus:\n  labels:\n    limit: 10\n    cluster: main\n", "f");
        Assert.Equal(10, c.LabelLimit);
        Assert.Equal([new KeyValuePair<string, string>("cluster", "main")], c.ConstantLabels);
    }

    [Fact]
    public void IntegrationsPrometheusSection_IsAcceptedAsAlias() =>
        Assert.Equal(9100, ConfigLoader.Parse("integrations:\n  prometheus:\n    port: 9100\n", "f").Port);

    [Fact]
    public void Load_ExplicitMissingFile_IsAnError_ButMissingDefaultFileGivesDefaults()
    {
        string missing = Path.Combine(Path.GetTempPath(), $"aishell-missing-{Guid.NewGuid():N}.yaml");
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Load(missing));
        Assert.Contains("not found", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", ": the file is empty")]
    [InlineData("   \n# nothing but a comment\n", ": the file is empty")]
    [InlineData("prometheus:\n", ":1: prometheus: the section is empty")]
    [InlineData("prometheus: {}\n", ":1: prometheus: the section is empty")]
    [InlineData("integrations:\n  prometheus:\n", ":1: prometheus: the section is empty")]
    public void Load_AnEmptyOrBareFile_IsRefused_NotRunOnTheDefaults(string yaml, string message)
    {
        string file = Path.Combine(Path.GetTempPath(), $"aishell-empty-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(file, yaml);
        try
        {
            var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Load(file));
            Assert.Contains(file + message, ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Load_AFileWithOneSetting_IsComplete()
    {
        string file = Path.Combine(Path.GetTempPath(), $"aishell-one-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(file, "prometheus:\n  port: 9101\n");
        try
        {
            Assert.Equal(9101, ConfigLoader.Load(file).Port);
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static WebConfig Web(string yaml) => ConfigLoader.Parse("prometheus:\n  port: 9090\n" + yaml, "f").Web;

    private const string Protected = "  web:\n    bearer_tokens: ['0123456789abcdef0123']\n    protect_health: true\n";

    [Fact]
    public void WeakenedBy_NamesRemovedAccessControl_OpenedHealth_AndRemovedTls()
    {
        Assert.Equal(["access control removed (no basic_auth_users, bearer_tokens or bearer_token_file left)"], Web(Protected).WeakenedBy(Web("")));
        Assert.Equal(["protect_health turned off (/healthz without credentials)"],
            Web(Protected).WeakenedBy(Web("  web:\n    bearer_tokens: ['0123456789abcdef0123']\n")));
        Assert.Equal(["tls_server_config removed (plain HTTP)"],
            Web("  web:\n    tls_server_config: {cert_file: c.pem, key_file: k.pem}\n").WeakenedBy(Web("")));
    }

    [Fact]
    public void WeakenedBy_IsEmpty_ForTighteningAndRotation()
    {
        Assert.Empty(Web("").WeakenedBy(Web(Protected)));
        Assert.Empty(Web(Protected).WeakenedBy(Web("  web:\n    bearer_tokens: ['fedcba98765432100000']\n    protect_health: true\n")));
        Assert.Empty(Web(Protected).WeakenedBy(Web(Protected)));
    }

    [Fact]
    public void ToMetricOptions_CarriesPrefixLabelsAndBuckets()
    {
        ExporterConfig c = ConfigLoader.Parse(SeedYaml, "seed.yaml");
        MetricOptions options = c.ToMetricOptions();
        var registry = new MetricRegistry(options);
        MetricFamily family = registry.Register(MetricDescriptor.Histogram("query_duration_seconds", "d", "query_duration", "database"));
        Assert.Equal([0.01, 0.05, 0.1, 0.5, 1, 5, 10], family.Buckets);
        Assert.Equal("aishell_query_duration_seconds", family.Name);
    }

    [Fact]
    public void ClusterSection_IsReadWithItsDefaults()
    {
        ExporterConfig c = ConfigLoader.Parse("""
            prometheus:
              cluster:
                enabled: true
                host: 10.0.0.5
                seed_nodes: [10.0.0.5:4053, "exporter-2:4053"]
                down_after: 7s
            """, "f.yaml");
        Assert.True(c.ClusterEnabled);
        Assert.Equal("10.0.0.5", c.ClusterHost);
        Assert.Equal(4053, c.ClusterPort);
        Assert.Equal("aishell", c.ClusterName);
        Assert.Equal(["10.0.0.5:4053", "exporter-2:4053"], c.ClusterSeedNodes);
        Assert.Equal(TimeSpan.FromSeconds(7), c.ClusterDownAfter);
        Assert.False(ConfigLoader.Parse("prometheus:\n  port: 9090\n", "f.yaml").ClusterEnabled);
    }
}
