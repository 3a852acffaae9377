using AiShell.Pipeline.IntegrationTests.Harness;

namespace AiShell.Pipeline.IntegrationTests;

public sealed class ConfigCliTests : IDisposable
{
    private readonly TempHome _home = new();

    private string DefaultFile => Path.Combine(_home.Path, ".aishell", "config", "prometheus.yaml");

    public void Dispose() => _home.Dispose();

    private Task<RunResult> Aishell(params string[] args) => _home.RunAsync(args);

    [Fact]
    public async Task SeedCommands_WriteTheDefaultFile_AndGetReadsThemBack()
    {
        Assert.Equal(0, (await Aishell("config", "set", "integrations.prometheus.enabled", "true")).ExitCode);
        Assert.Equal(0, (await Aishell("config", "set", "integrations.prometheus.port", "9090")).ExitCode);
        Assert.Equal(0, (await Aishell("config", "set", "integrations.prometheus.path", "/metrics")).ExitCode);
        Assert.Equal(0, (await Aishell("config", "set", "prometheus.labels.limit", "10")).ExitCode);
        RunResult drop = await Aishell("config", "set", "prometheus.drop_labels", "user_id,session_id");
        Assert.Equal(0, drop.ExitCode);
        Assert.Contains("✓ prometheus.drop_labels = [user_id, session_id]", drop.Stdout, StringComparison.Ordinal);
        Assert.Equal(0, (await Aishell("config", "set", "prometheus.collect_interval", "30")).ExitCode);
        Assert.Equal(0, (await Aishell("config", "set", "prometheus.metrics.custom", "false")).ExitCode);

        Assert.True(File.Exists(DefaultFile));
        Assert.Equal("30\n", (await Aishell("config", "get", "prometheus.collect_interval")).Stdout);
        Assert.Equal("10\n", (await Aishell("config", "get", "prometheus.labels.limit")).Stdout);
        RunResult list = await Aishell("config", "list");
        Assert.Contains("prometheus.metrics.custom = false", list.Stdout, StringComparison.Ordinal);
        Assert.Contains($"# source: {DefaultFile}", list.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("prometheus.port", "0", "out of range 1-65535")]
    [InlineData("prometheus.port", "99999", "out of range 1-65535")]
    [InlineData("prometheus.collect_interval", "often", "not a number of seconds")]
    [InlineData("prometheus.unknown", "1", "unknown key 'prometheus.unknown'")]
    public async Task BadKeyOrValue_ExitsTwo_WithAClearError_AndTheFileIsUntouched(string key, string value, string message)
    {
        Assert.Equal(0, (await Aishell("config", "set", "prometheus.port", "9191")).ExitCode);
        byte[] before = await File.ReadAllBytesAsync(DefaultFile);
        RunResult result = await Aishell("config", "set", key, value);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, await File.ReadAllBytesAsync(DefaultFile));
    }

    [Fact]
    public async Task Get_WithNoFile_ShowsTheDefault()
    {
        RunResult result = await Aishell("config", "get", "prometheus.port");
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("9090\n", result.Stdout);
    }
}
