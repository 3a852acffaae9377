using AiShell.Pipeline.IntegrationTests.Harness;

namespace AiShell.Pipeline.IntegrationTests;

/// <summary>
/// The seed installs with <c>npm install -g @aishell/prometheus-exporter</c>: pack the launcher and
/// platform packages around the native binary, install both tarballs globally into a temporary
/// prefix (offline: nothing is downloaded), and run the exporter from there.
/// </summary>
public sealed class NpmPackageTests
{
    [Fact]
    public async Task PackedAndInstalledGlobally_AishellStartServesMetrics_AndStopsCleanly()
    {
        string repo = NativeBinary.RepoRoot;
        Assert.True(File.Exists(NativeBinary.Path));
        RunResult pack = await ProcessRunner.RunAsync(Path.Combine(repo, "npm", "pack.sh"), [], timeout: TimeSpan.FromMinutes(2));
        Assert.True(pack.ExitCode == 0, pack.All);
        string[] tarballs = Directory.GetFiles(Path.Combine(repo, "artifacts", "npm"), "*.tgz");
        Assert.Equal(2, tarballs.Length);

        string prefix = Directory.CreateTempSubdirectory("aishell-npm-").FullName;
        try
        {
            RunResult install = await ProcessRunner.RunAsync("npm",
                ["install", "-g", "--offline", "--no-audit", "--no-fund", "--prefix", prefix, .. tarballs.Order(StringComparer.Ordinal).Reverse()],
                timeout: TimeSpan.FromMinutes(2));
            Assert.True(install.ExitCode == 0, install.All);
            string launcher = Path.Combine(prefix, "bin", "aishell");
            Assert.True(File.Exists(launcher), "npm did not link bin/aishell");

            ExporterProcess exporter = await ExporterProcess.StartWithBinaryAsync(launcher, null);
            await using (exporter)
            {
                Assert.Equal("✓ Prometheus exporter started", exporter.Stdout.First());
                using var http = new HttpClient();
                string text = await http.GetStringAsync(exporter.MetricsUrl);
                Assert.True(Exposition.Has(text, "aishell_cpu_usage_percent"));
                Assert.Equal(0, await exporter.StopAsync()); // SIGTERM passes through the node launcher
            }
        }
        finally
        {
            Directory.Delete(prefix, recursive: true);
        }
    }
}
