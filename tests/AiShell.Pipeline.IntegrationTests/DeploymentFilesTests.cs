using AiShell.Pipeline.IntegrationTests.Harness;
using YamlDotNet.RepresentationModel;

namespace AiShell.Pipeline.IntegrationTests;

/// <summary>
/// docker/: no Docker engine or cluster runs here, so these check what can be checked without one
/// (see docker/README.md).
/// </summary>
public sealed class DeploymentFilesTests
{
    private static readonly string Docker = Path.Combine(NativeBinary.RepoRoot, "docker");

    private static YamlMappingNode Load(string relative)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(Path.Combine(Docker, relative))));
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    private static YamlNode At(YamlNode node, params string[] path)
    {
        foreach (string key in path)
        {
            node = ((YamlMappingNode)node).Children[new YamlScalarNode(key)];
        }

        return node;
    }

    [Fact]
    public void EveryYamlFile_Parses()
    {
        string[] files = Directory.GetFiles(Docker, "*.y*ml", SearchOption.AllDirectories);
        Assert.True(files.Length >= 12, $"{files.Length} YAML files");
        foreach (string file in files)
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(File.ReadAllText(file)));
            Assert.NotEmpty(stream.Documents);
        }
    }

    [Fact]
    public async Task ComposePrometheusConfig_PassesPromtool_WithItsRules()
    {
        RunResult check = await ProcessRunner.RunAsync("promtool", ["check", "config", Path.Combine(Docker, "compose", "prometheus", "prometheus.yml")]);
        Assert.True(check.ExitCode == 0, check.All);
        Assert.Contains("SUCCESS: 2 rule files found", check.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ComposeRulesAndDashboard_AreWhatTheBinaryExportsToday()
    {
        using var home = new TempHome();
        string rules = Path.Combine(home.Path, "rules");
        string dashboard = Path.Combine(home.Path, "aishell.json");
        Assert.Equal(0, (await home.RunAsync("prometheus", "export-rules", "-o", rules)).ExitCode);
        Assert.Equal(0, (await home.RunAsync("prometheus", "export-dashboard", "--format", "model", "-o", dashboard)).ExitCode);
        foreach (string file in new[] { "alerts.yml", "recording_rules.yml" })
        {
            Assert.True(File.ReadAllText(Path.Combine(rules, file)) == File.ReadAllText(Path.Combine(Docker, "compose", "prometheus", "rules", file)),
                $"docker/compose/prometheus/rules/{file} is stale: run `aishell prometheus export-rules -o docker/compose/prometheus/rules`");
        }

        Assert.True(File.ReadAllText(dashboard) == File.ReadAllText(Path.Combine(Docker, "compose", "grafana", "dashboards", "aishell.json")),
            "docker/compose/grafana/dashboards/aishell.json is stale: run `aishell prometheus export-dashboard --format model -o ...`");
    }

    [Fact]
    public async Task ComposeExporterConfig_IsValidForTheBinary()
    {
        using var home = new TempHome();
        RunResult list = await home.RunAsync("config", "list", "--config", Path.Combine(Docker, "compose", "aishell.yaml"));
        Assert.True(list.ExitCode == 0, list.All);
        Assert.Contains("prometheus.ingest.udp_port = 8125", list.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Compose_HasTheWholeKit()
    {
        YamlMappingNode services = (YamlMappingNode)At(Load("docker-compose.yml"), "services");
        foreach (string service in new[] { "postgres", "aishell", "prometheus", "alertmanager", "grafana" })
        {
            Assert.True(services.Children.ContainsKey(new YamlScalarNode(service)), $"compose has no {service}");
        }

        string command = string.Join(' ', ((YamlSequenceNode)At(services, "postgres", "command")).Select(n => n.ToString()));
        Assert.Contains("shared_preload_libraries=pg_stat_statements", command, StringComparison.Ordinal);
    }

    [Fact]
    public void KubernetesDeployment_HasProbesAnnotationsAndTheOperatorMonitors()
    {
        YamlMappingNode deployment = Load(Path.Combine("k8s", "deployment.yaml"));
        Assert.Equal("Deployment", At(deployment, "kind").ToString());
        YamlNode template = At(deployment, "spec", "template");
        Assert.Equal("true", At(template, "metadata", "annotations", "prometheus.io/scrape").ToString());
        var container = (YamlMappingNode)((YamlSequenceNode)At(template, "spec", "containers"))[0];
        Assert.Equal("/healthz", At(container, "livenessProbe", "httpGet", "path").ToString());
        Assert.Equal("/ready", At(container, "readinessProbe", "httpGet", "path").ToString());
        Assert.Equal("ServiceMonitor", At(Load(Path.Combine("k8s", "servicemonitor.yaml")), "kind").ToString());
        Assert.Equal("PodMonitor", At(Load(Path.Combine("k8s", "podmonitor.yaml")), "kind").ToString());
        Assert.Equal("Service", At(Load(Path.Combine("k8s", "service.yaml")), "kind").ToString());
    }

    private static readonly string Clients = Path.Combine(NativeBinary.RepoRoot, "tests", "clients");

    private static Task<RunResult> ValidateAsync(params string[] files) =>
        ProcessRunner.RunAsync("node", [Path.Combine(Clients, "validate-k8s.mjs"), .. files]);

    [Fact]
    public async Task KubernetesManifests_PassTheApiSchemas_SingleNodeAndCluster()
    {
        Assert.True(Directory.Exists(Path.Combine(Clients, "node_modules", "kubernetes-models")), "kubernetes-models is not installed: run ./test.sh (npm ci in tests/clients)");
        string[] files = Directory.GetFiles(Path.Combine(Docker, "k8s"), "*.yaml", SearchOption.AllDirectories);
        RunResult result = await ValidateAsync(files);
        Assert.True(result.ExitCode == 0, result.All);
        Assert.Equal(files.Length, result.Stdout.Split('\n').Count(l => l.StartsWith('✓')));
        Assert.Contains("StatefulSet aishell", result.Stdout, StringComparison.Ordinal);

        // The validator can fail: a replica count that is not a number is refused.
        string broken = Path.Combine(Path.GetTempPath(), $"aishell-broken-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(broken, File.ReadAllText(Path.Combine(Docker, "k8s", "cluster", "statefulset.yaml")).Replace("replicas: 3", "replicas: three", StringComparison.Ordinal));
        try
        {
            RunResult refused = await ValidateAsync(broken);
            Assert.Equal(1, refused.ExitCode);
            Assert.Contains("replicas must be integer", refused.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(broken);
        }
    }

    [Fact]
    public void KubernetesCluster_SeedsNameEveryReplicaByItsStatefulSetName()
    {
        YamlMappingNode set = Load(Path.Combine("k8s", "cluster", "statefulset.yaml"));
        int replicas = int.Parse(At(set, "spec", "replicas").ToString(), System.Globalization.CultureInfo.InvariantCulture);
        string name = At(set, "metadata", "name").ToString();
        string service = At(set, "spec", "serviceName").ToString();
        string ns = At(set, "metadata", "namespace").ToString();
        var config = new YamlStream();
        config.Load(new StringReader(At(Load(Path.Combine("k8s", "cluster", "configmap.yaml")), "data", "prometheus.yaml").ToString()));
        YamlNode cluster = At(config.Documents[0].RootNode, "prometheus", "cluster");
        Assert.Equal("true", At(cluster, "enabled").ToString());
        string[] seeds = [.. ((YamlSequenceNode)At(cluster, "seed_nodes")).Select(n => n.ToString())];
        Assert.Equal(Enumerable.Range(0, replicas).Select(i => $"{name}-{i}.{service}.{ns}.svc.cluster.local:4053"), seeds);
        Assert.Equal("None", At(Load(Path.Combine("k8s", "cluster", "service.yaml")), "spec", "clusterIP").ToString());
    }
}
