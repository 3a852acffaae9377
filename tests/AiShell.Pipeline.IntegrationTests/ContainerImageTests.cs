using System.Diagnostics;
using AiShell.Pipeline.IntegrationTests.Harness;
using AiShell.Pipeline.Tests.Shared;
using Xunit.Abstractions;

namespace AiShell.Pipeline.IntegrationTests;

/// <summary>
/// The runtime image, built by docker/build-image.sh from the native binary with real podman (test.sh
/// installs it), once for the class, removed afterwards.
/// </summary>
public sealed class ContainerImageFixture : IAsyncLifetime
{
    public string Tag { get; } = $"localhost/aishell-exporter:test-{Guid.NewGuid():N}"[..44];

    public long SizeBytes { get; private set; }

    public string BuildOutput { get; private set; } = "";

    public async Task InitializeAsync()
    {
        _ = NativeBinary.Path; // fails with a clear message when dist/aishell is missing
        RunResult build = await ProcessRunner.RunAsync(Path.Combine(NativeBinary.RepoRoot, "docker", "build-image.sh"), [Tag],
            timeout: TimeSpan.FromMinutes(3));
        Assert.True(build.ExitCode == 0, "docker/build-image.sh failed:\n" + build.All);
        BuildOutput = build.All;
        SizeBytes = long.Parse((await ContainerImageTests.PodmanAsync("image", "inspect", "--format", "{{.Size}}", Tag)).Trim(),
            System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task DisposeAsync() => await ProcessRunner.RunAsync("podman", ["rmi", "-f", Tag]);
}

/// <summary>
/// The image as a user runs it: read-only root filesystem, as uid 10001, scraped from the host through a
/// published port, its health check run, collecting the test PostgreSQL with SCRAM over TLS with the
/// password from a mounted secret file, and stopped with SIGTERM.
/// </summary>
[Collection(ServerControlCollection.Name)]
public sealed class ContainerImageTests(ContainerImageFixture image, ITestOutputHelper output) : IClassFixture<ContainerImageFixture>
{
    /// <summary>The host quirks of this machine and CI: crun refuses its cgroup layout; podman's default rlimits exceed the hard limit.</summary>
    private static readonly string[] RunFlags = ["--runtime", "runc", "--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096"];

    internal static async Task<string> PodmanAsync(params string[] args)
    {
        RunResult result = await ProcessRunner.RunAsync("podman", args, timeout: TimeSpan.FromMinutes(1));
        Assert.True(result.ExitCode == 0, $"podman {string.Join(' ', args)} exited {result.ExitCode}:\n{result.All}");
        return result.Stdout;
    }

    [Fact]
    public async Task TheImage_HoldsTheBinaryItsLibrariesAndNothingElse_RunsAs10001_WithHealthcheckStopSignalAndLabels()
    {
        output.WriteLine($"image {image.Tag}: {image.SizeBytes:N0} bytes");
        string config = await PodmanAsync("image", "inspect", "--format",
            "{{.Config.User}}|{{.Config.StopSignal}}|{{json .Config.Healthcheck.Test}}|{{index .Config.Labels \"org.opencontainers.image.version\"}}|{{index .Config.Labels \"org.opencontainers.image.licenses\"}}",
            image.Tag);
        string[] parts = config.Trim().Split('|');
        Assert.Equal("10001:10001", parts[0]);
        Assert.Equal("SIGTERM", parts[1]);
        Assert.Contains("\"/usr/local/bin/aishell\",\"prometheus\",\"status\"", parts[2], StringComparison.Ordinal);
        RunResult version = await ProcessRunner.RunAsync(NativeBinary.Path, ["--version"]);
        Assert.Equal(version.Stdout.Trim(), parts[3]);
        Assert.Equal("MIT", parts[4]);

        // Every file of the image: the binary, what ldd and the run-time opens resolve to, CA
        // certificates, passwd and group. No shell, no package manager.
        string container = (await PodmanAsync("create", image.Tag)).Trim();
        try
        {
            string listing = await TarListingAsync(container);
            string[] files = [.. listing.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(f => !f.EndsWith('/')).Order(StringComparer.Ordinal)];
            output.WriteLine(string.Join('\n', files));
            Assert.Contains("usr/local/bin/aishell", files);
            Assert.Contains("etc/ssl/certs/ca-certificates.crt", files);
            Assert.Contains("etc/nsswitch.conf", files); // hosts: files first, so /etc/hosts names resolve
            foreach (string lib in new[] { "libc.so.6", "libm.so.6", "libssl.so.3", "libcrypto.so.3", "libgssapi_krb5.so.2" })
            {
                Assert.Contains(files, f => f.EndsWith("/" + lib, StringComparison.Ordinal));
            }

            Assert.Contains(files, f => f.EndsWith("/ld-linux-x86-64.so.2", StringComparison.Ordinal) || f.EndsWith("/ld-linux-aarch64.so.1", StringComparison.Ordinal));
            Assert.DoesNotContain(files, f => f is "bin/sh" or "usr/bin/sh" or "bin/bash" or "usr/bin/apt-get");
            Assert.All(files, f => Assert.True(f.StartsWith("usr/local/bin/", StringComparison.Ordinal) || f.StartsWith("lib", StringComparison.Ordinal)
                || f.StartsWith("usr/lib", StringComparison.Ordinal) || f is "etc/passwd" or "etc/group" or "etc/nsswitch.conf" or "etc/ssl/certs/ca-certificates.crt"
                || f.StartsWith("etc/hosts", StringComparison.Ordinal) || f is "etc/resolv.conf" or "etc/hostname" or "run/.containerenv",
                $"unexpected file in the image: {f}"));
        }
        finally
        {
            await ProcessRunner.RunAsync("podman", ["rm", "-f", container]);
        }
    }

    private static async Task<string> TarListingAsync(string container)
    {
        string tar = Path.Combine(Path.GetTempPath(), $"aishell-image-{Guid.NewGuid():N}.tar");
        try
        {
            await PodmanAsync("export", "-o", tar, container);
            RunResult list = await ProcessRunner.RunAsync("tar", ["-tf", tar]);
            Assert.Equal(0, list.ExitCode);
            return list.Stdout.Replace("./", "", StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(tar);
        }
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task ReadOnlyAs10001_ScrapedFromTheHost_Healthy_CollectsWithScramOverTlsAndASecretFile_AndStopsInOrder()
    {
        PostgresServer pg = await PostgresServer.GetAsync();
        string dir = Directory.CreateTempSubdirectory("aishell-container-").FullName;
        string secret = Path.Combine(dir, "pgpw");
        await File.WriteAllTextAsync(secret, pg.Password + "\n");
        File.SetUnixFileMode(secret, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        File.SetUnixFileMode(dir, (UnixFileMode)0b111_101_101);
        string application = $"aishell-container-{Guid.NewGuid():N}"[..30];
        // pg.test: a name the runtime writes to the container's /etc/hosts (--add-host), for 10.0.2.2,
        // the host's loopback as slirp4netns shows it to the container (allow_host_loopback).
        await File.WriteAllTextAsync(Path.Combine(dir, "prometheus.yaml"), $"""
            prometheus:
              collect_interval: 1
              databases:
                - name: scram_tls
                  connection_string: "Host=pg.test;Port={pg.Port};Username=postgres;Database=aishell_test;SSL Mode=Require;Application Name={application}"
                  password_file: /run/secrets/pgpw
            """);
        int port = ProcessRunner.FreePort();
        string name = $"aishell-test-{Guid.NewGuid():N}"[..24];
        try
        {
            // The config named by AISHELL_CONFIG, so that the health check reads it too.
            await PodmanAsync([
                "run", "-d", "--name", name, .. RunFlags, "--read-only", "--read-only-tmpfs=false", // not even /tmp is writable
                "--network", "slirp4netns:allow_host_loopback=true", "--add-host", "pg.test:10.0.2.2", "-p", $"127.0.0.1:{port}:9090",
                "-v", $"{Path.Combine(dir, "prometheus.yaml")}:/etc/aishell/prometheus.yaml:ro", "-v", $"{secret}:/run/secrets/pgpw:ro",
                "-e", "AISHELL_CONFIG=/etc/aishell/prometheus.yaml", image.Tag, "prometheus", "start",
            ]);
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            string text = "";
            var waited = Stopwatch.StartNew();
            while (waited.Elapsed < TimeSpan.FromSeconds(30) && !text.Contains("aishell_up{database=\"scram_tls\"} 1", StringComparison.Ordinal))
            {
                try
                {
                    text = await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/metrics"));
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                    // not listening yet
                }

                await Task.Delay(200);
            }

            Assert.True(text.Contains("aishell_up{database=\"scram_tls\"} 1", StringComparison.Ordinal),
                "the container never collected the database:\n" + await PodmanAsync("logs", name));
            output.WriteLine($"aishell_up 1 in the container {waited.ElapsedMilliseconds} ms after podman run");

            // Its connections are TLS; they authenticated with SCRAM, the test server's only method for
            // TCP connections (tests/postgres.sh: initdb --auth-host=scram-sha-256).
            long overTls = await pg.ScalarAsync<long>(
                $"SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = '{application}' AND s.ssl");
            Assert.True(overTls > 0, "the exporter's connections are not TLS");

            // As uid 10001 on a read-only root filesystem.
            int pid = int.Parse((await PodmanAsync("inspect", "--format", "{{.State.Pid}}", name)).Trim(), System.Globalization.CultureInfo.InvariantCulture);
            string uid = File.ReadAllLines($"/proc/{pid}/status").Single(l => l.StartsWith("Uid:", StringComparison.Ordinal));
            Assert.Equal("10001", uid.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1]); // rootful podman (test.sh runs as root): ids map 1:1

            RunResult health = await ProcessRunner.RunAsync("podman", ["healthcheck", "run", name]);
            Assert.True(health.ExitCode == 0, "health check: " + health.All);

            var stopping = Stopwatch.StartNew();
            await PodmanAsync("stop", "-t", "10", name);
            stopping.Stop();
            output.WriteLine($"podman stop took {stopping.ElapsedMilliseconds} ms");
            Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(10), $"stop took {stopping.Elapsed}");
            Assert.Equal("0", (await PodmanAsync("inspect", "--format", "{{.State.ExitCode}}", name)).Trim());
            string log = await PodmanAsync("logs", name);
            Assert.Contains("✓ Folded everything accepted", log, StringComparison.Ordinal);
            Assert.Contains("✓ Prometheus exporter stopped", log, StringComparison.Ordinal);
        }
        finally
        {
            await ProcessRunner.RunAsync("podman", ["rm", "-f", name]);
            Directory.Delete(dir, recursive: true);
        }
    }
}
