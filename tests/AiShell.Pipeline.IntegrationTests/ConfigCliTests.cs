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

    /// <summary>
    /// The native binary reports every problem at once, each as FILE:LINE: KEY: reason, with no
    /// runtime resource keys (IO_FileNotFound_FileName, ADP_ConnectionStringSyntax, ...), and
    /// <c>prometheus start</c> refuses the same file with the same report.
    /// </summary>
    [Fact]
    public async Task Check_ListsEveryProblem_InPlainWords_AndStartRefusesTheSameFile()
    {
        string notPem = Path.Combine(_home.Path, "not.pem");
        await File.WriteAllTextAsync(notPem, "hello\n");
        string file = Path.Combine(_home.Path, "c.yaml");
        await File.WriteAllTextAsync(file, $"""
            prometheus:
              web:
                tls_server_config:
                  cert_file: {notPem}
                  key_file: {notPem}
                bearer_token_file: /nonexistent/tokens
              databases:
                - name: a
                  connection_string: "Host=127.0.0.1;Port"
                  statement_timeout: 5x
                - name: b
                  connection_string: "Hots=127.0.0.1"
                  password_file: {_home.Path}
            """);

        RunResult check = await Aishell("config", "check", "--config", file);
        RunResult start = await Aishell("prometheus", "start", "--port", "0", "--config", file);

        Assert.Equal(2, check.ExitCode);
        Assert.Equal(2, start.ExitCode);
        string[] expected =
        [
            $"{file}:4: prometheus.web.tls_server_config.cert_file: {notPem}: holds no PEM certificate",
            $"{file}:5: prometheus.web.tls_server_config.key_file: {notPem}: holds no PEM private key",
            $"{file}:6: prometheus.web.bearer_token_file: /nonexistent/tokens: no such file",
            $"{file}:9: prometheus.databases[0].connection_string: is not a list of KEY=VALUE pairs separated by ';' near character",
            $"{file}:10: prometheus.databases[0].statement_timeout: '5x' is not a duration",
            $"{file}:12: prometheus.databases[1].connection_string: 'hots' is not a PostgreSQL connection setting",
            $"{file}:13: prometheus.databases[1].password_file: {_home.Path}: is a directory, not a file",
        ];
        foreach (RunResult result in new[] { check, start })
        {
            Assert.Contains("7 configuration errors", result.Stderr, StringComparison.Ordinal);
            foreach (string line in expected)
            {
                Assert.Contains(line, result.Stderr, StringComparison.Ordinal);
            }

            Assert.DoesNotMatch(@"[A-Z][A-Za-z]+_[A-Z][A-Za-z]+_?\w*, ", result.Stderr); // a resource key with arguments
        }
    }

    /// <summary>A file the exporter's user cannot read: "permission denied" and the user, not UnauthorizedAccess_IODenied_Path.</summary>
    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task Check_AsAnotherUser_SaysPermissionDenied()
    {
        File.SetUnixFileMode(_home.Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        string secret = Path.Combine(_home.Path, "pw");
        await File.WriteAllTextAsync(secret, "s3cret\n");
        File.SetUnixFileMode(secret, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        string file = Path.Combine(_home.Path, "c.yaml");
        await File.WriteAllTextAsync(file, $"""
            prometheus:
              databases:
                - name: a
                  connection_string: "Host=127.0.0.1"
                  password_file: {secret}
            """);

        RunResult result = await ProcessRunner.RunAsync("runuser", ["-u", "nobody", "--", NativeBinary.Path, "config", "check", "--config", file], _home.Env);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"{file}:5: prometheus.databases[0].password_file: {secret}: permission denied (the exporter runs as user nobody)",
            result.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, (await Aishell("config", "check", "--config", file)).ExitCode); // root reads it: the same file is valid
    }
}
