using AiShell.Pipeline.IntegrationTests.Harness;

namespace AiShell.Pipeline.IntegrationTests;

public sealed class StartCommandTests
{
    [Fact]
    public async Task Start_PrintsTheSeedLines_ServesMetrics_AndSigtermExitsZero()
    {
        ExporterProcess exporter = await ExporterProcess.StartAsync();
        await using (exporter)
        {
            string[] lines = exporter.Stdout.ToArray();
            Assert.Equal("✓ Prometheus exporter started", lines[0]);
            Assert.Matches(@"^✓ Metrics endpoint: http://127\.0\.0\.1:\d+/metrics$", lines[1]);
            Assert.Equal("✓ Ready for scraping", lines[2]);

            using var http = new HttpClient();
            string text = await http.GetStringAsync(exporter.MetricsUrl);
            Assert.True(Exposition.Has(text, "aishell_memory_usage_bytes"));
            Assert.Equal(0, await exporter.StopAsync(ProcessRunner.SIGTERM));
            Assert.Contains("✓ Prometheus exporter stopped", exporter.Stdout);
        }
    }

    [Fact]
    public async Task Sigint_AlsoStopsCleanly_WithExitCodeZero()
    {
        await using ExporterProcess exporter = await ExporterProcess.StartAsync();
        Assert.Equal(0, await exporter.StopAsync(ProcessRunner.SIGINT));
    }

    [Fact]
    public async Task Start_WithoutAnyConfigFile_RunsOnTheEmbeddedDefaults()
    {
        await using ExporterProcess exporter = await ExporterProcess.StartAsync();
        Assert.False(File.Exists(Path.Combine(exporter.Home, ".aishell", "config", "prometheus.yaml")));
        Assert.Equal("/metrics", exporter.MetricsUrl.AbsolutePath);
        using var http = new HttpClient();
        string text = await http.GetStringAsync(exporter.MetricsUrl);
        Assert.True(Exposition.Has(text, "aishell_cpu_usage_percent"), "host metrics are on by default");
    }

    [Fact]
    public async Task Start_ReadsTheDefaultConfigPathUnderHome()
    {
        using var home = new TempHome();
        string dir = Path.Combine(home.Path, ".aishell", "config");
        Directory.CreateDirectory(dir);
        await File.WriteAllTextAsync(Path.Combine(dir, "prometheus.yaml"), "prometheus:\n  port: 70000\n");
        RunResult result = await home.RunAsync("prometheus", "start");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("prometheus.yaml:2: prometheus.port: 70000 is out of range 1-65535", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "the file is empty")]
    [InlineData("# only a comment\n", "the file is empty")]
    [InlineData("prometheus:\n", "prometheus: the section is empty")]
    [InlineData("prometheus: {}\n", "prometheus: the section is empty")]
    public async Task Start_WithAnEmptyOrIncompleteFile_ExitsTwo_InsteadOfRunningOnTheDefaults(string yaml, string reason)
    {
        using var home = new TempHome();
        string file = Path.Combine(home.Path, "half-written.yaml");
        await File.WriteAllTextAsync(file, yaml);
        RunResult result = await home.RunAsync("prometheus", "start", "--config", file, "--port", "0");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(reason, result.Stderr, StringComparison.Ordinal);
        Assert.Contains("half-written.yaml", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Metrics endpoint", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_WithBadConfig_ExitsTwo_NamingFileLineKeyAndReason()
    {
        using var home = new TempHome();
        string file = Path.Combine(home.Path, "bad.yaml");
        await File.WriteAllTextAsync(file, "prometheus:\n  collect_interval: soon\n  portt: 1\n");
        RunResult result = await home.RunAsync("prometheus", "start", "--config", file);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"{file}:2: prometheus.collect_interval: 'soon' is not a number of seconds", result.Stderr, StringComparison.Ordinal);
        Assert.Contains($"{file}:3: prometheus.portt: unknown key", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_ViaAishellConfigVariable_UsesThatFile()
    {
        using var home = new TempHome();
        string file = Path.Combine(home.Path, "env.yaml");
        await File.WriteAllTextAsync(file, "prometheus:\n  enabled: false\n");
        Dictionary<string, string> env = home.Env;
        env["AISHELL_CONFIG"] = file;
        RunResult result = await ProcessRunner.RunAsync(NativeBinary.Path, ["prometheus", "start", "--port", "0"], env);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"prometheus.enabled is false in {file}", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_OnAPortInUse_ExitsOne_WithAClearError()
    {
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        int port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        using var home = new TempHome();
        RunResult result = await home.RunAsync("prometheus", "start", "--host", "127.0.0.1", "--port",
            port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"cannot listen on 127.0.0.1:{port}", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_PathOverride_ServesThere_AndTheOldPathIs404()
    {
        await using ExporterProcess exporter = await ExporterProcess.StartAsync(null, "--path", "/custom");
        Assert.Equal("/custom", exporter.MetricsUrl.AbsolutePath);
        using var http = new HttpClient();
        Assert.Equal(System.Net.HttpStatusCode.OK, (await http.GetAsync(exporter.MetricsUrl)).StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await http.GetAsync(new Uri(exporter.BaseUrl, "/metrics"))).StatusCode);
    }

    [Theory]
    [InlineData("--port", "70000")]
    [InlineData("--path", "no-slash")]
    public async Task Start_BadOverride_ExitsTwo(string option, string value)
    {
        using var home = new TempHome();
        RunResult result = await home.RunAsync("prometheus", "start", option, value);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(option, result.Stderr, StringComparison.Ordinal);
    }
}
