namespace AiShell.Pipeline.Configuration.Tests;

public sealed class ConfigEditorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("aishell-config-").FullName;

    private string FilePath => Path.Combine(_dir, "config", "prometheus.yaml");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Set_CreatesTheFile_AndEveryValueRoundTrips()
    {
        ConfigEditor.Set(FilePath, "integrations.prometheus.enabled", "true");
        ConfigEditor.Set(FilePath, "integrations.prometheus.port", "9091");
        ConfigEditor.Set(FilePath, "integrations.prometheus.path", "/metrics");
        ConfigEditor.Set(FilePath, "prometheus.labels.limit", "10");
        ConfigEditor.Set(FilePath, "prometheus.drop_labels", "user_id,session_id");
        ConfigEditor.Set(FilePath, "prometheus.collect_interval", "30");
        ConfigEditor.Set(FilePath, "prometheus.metrics.custom", "false");
        ConfigEditor.Set(FilePath, "prometheus.labels.environment", "staging");
        ConfigEditor.Set(FilePath, "prometheus.buckets.query_duration", "[0.001, 0.01, 0.1]");

        ExporterConfig c = ConfigLoader.Load(FilePath);
        Assert.Equal(9091, c.Port);
        Assert.Equal(10, c.LabelLimit);
        Assert.Equal(["user_id", "session_id"], c.DropLabels);
        Assert.Equal(TimeSpan.FromSeconds(30), c.CollectInterval);
        Assert.False(c.MetricsCustom);
        Assert.Equal("staging", c.ConstantLabels.Single().Value);
        Assert.Equal([0.001, 0.01, 0.1], c.Buckets["query_duration"]);
        Assert.Equal("9091", ConfigEditor.Get(FilePath, "prometheus.port"));
        Assert.Equal("30", ConfigEditor.Get(FilePath, "integrations.prometheus.collect_interval"));
    }

    [Theory]
    [InlineData("prometheus.port", "0")]
    [InlineData("prometheus.port", "65536")]
    [InlineData("prometheus.port", "ninety")]
    [InlineData("prometheus.collect_interval", "soon")]
    [InlineData("prometheus.no_such_key", "1")]
    [InlineData("prometheus.custom_metrics", "[]")]
    [InlineData("prometheus.enabled", "perhaps")]
    public void Set_BadKeyOrValue_Throws_AndLeavesTheFileByteForByte(string key, string value)
    {
        ConfigEditor.Set(FilePath, "prometheus.port", "9100");
        byte[] before = File.ReadAllBytes(FilePath);
        Assert.Throws<ConfigException>(() => ConfigEditor.Set(FilePath, key, value));
        Assert.Equal(before, File.ReadAllBytes(FilePath));
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(FilePath)!)); // no temp file left behind
    }

    [Fact]
    public void Set_OnAFileThatIsInvalidElsewhere_RefusesAndKeepsIt()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(FilePath)!);
        File.WriteAllText(FilePath, "prometheus:\n  port: 9090\n  bogus: 1\n");
        var ex = Assert.Throws<ConfigException>(() => ConfigEditor.Set(FilePath, "prometheus.port", "9091"));
        Assert.Contains("prometheus.bogus", ex.Message, StringComparison.Ordinal);
        Assert.Equal("prometheus:\n  port: 9090\n  bogus: 1\n", File.ReadAllText(FilePath));
    }

    [Fact]
    public void Set_KeepsOtherKeys_AndEditsAnIntegrationsSectionInPlace()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(FilePath)!);
        File.WriteAllText(FilePath, "integrations:\n  prometheus:\n    host: 127.0.0.1\n");
        ConfigEditor.Set(FilePath, "prometheus.port", "9200");
        ExporterConfig c = ConfigLoader.Load(FilePath);
        Assert.Equal(("127.0.0.1", 9200), (c.Host, c.Port));
        Assert.StartsWith("integrations:", File.ReadAllText(FilePath), StringComparison.Ordinal);
    }

    [Fact]
    public void List_ShowsEveryFixedKeyWithItsEffectiveValue()
    {
        ConfigEditor.Set(FilePath, "prometheus.port", "9300");
        string list = ConfigEditor.List(FilePath);
        Assert.Contains("prometheus.port = 9300\n", list, StringComparison.Ordinal);
        Assert.Contains("prometheus.host = 0.0.0.0\n", list, StringComparison.Ordinal);
        Assert.Contains("prometheus.buckets.query_duration = [0.01, 0.05, 0.1, 0.5, 1, 5, 10]\n", list, StringComparison.Ordinal);
        foreach (ConfigKey key in ConfigKeys.Fixed.Where(k => k.Kind != ConfigValueKind.Structured))
        {
            Assert.Contains(key.Path + " = ", list, StringComparison.Ordinal);
        }
    }
}
