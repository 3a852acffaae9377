using System.Collections.Concurrent;
using System.Diagnostics;

namespace AiShell.Pipeline.IntegrationTests.Harness;

/// <summary>
/// <c>aishell prometheus start</c> as a child process on a free loopback port, with its own HOME so
/// no user config leaks in. Disposing sends SIGTERM and waits for the exit.
/// </summary>
internal sealed class ExporterProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _stdout = new();
    private readonly ConcurrentQueue<string> _stderr = new();
    private readonly TaskCompletionSource<string> _endpoint = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ExporterProcess(Process process, string home)
    {
        _process = process;
        Home = home;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                _ready.TrySetException(new InvalidOperationException("exporter closed stdout before it was ready"));
                return;
            }

            _stdout.Enqueue(e.Data);
            const string endpointLine = "✓ Metrics endpoint: ";
            if (e.Data.StartsWith(endpointLine, StringComparison.Ordinal))
            {
                _endpoint.TrySetResult(e.Data[endpointLine.Length..]);
            }
            else if (e.Data == "✓ Ready for scraping")
            {
                _ready.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                _stderr.Enqueue(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Home { get; }

    /// <summary>The URL printed on the endpoint line, e.g. http://127.0.0.1:41234/metrics.</summary>
    public Uri MetricsUrl { get; private set; } = null!;

    public Uri BaseUrl => new(MetricsUrl.GetLeftPart(UriPartial.Authority));

    public int Pid => _process.Id;

    public Process Process => _process;

    public IReadOnlyCollection<string> Stdout => _stdout;

    public string Stderr => string.Join('\n', _stderr);

    /// <summary>Waits (up to 10 s) for a stdout line that starts with <paramref name="prefix"/>; returns it.</summary>
    public async Task<string> WaitForLineAsync(string prefix)
    {
        for (int i = 0; i < 200; i++)
        {
            foreach (string line in _stdout)
            {
                if (line.StartsWith(prefix, StringComparison.Ordinal))
                {
                    return line;
                }
            }

            await Task.Delay(50);
        }

        Assert.Fail($"no stdout line starting with '{prefix}'. stdout: {string.Join('\n', _stdout)} stderr: {Stderr}");
        return "";
    }

    public static Task<ExporterProcess> StartAsync(string? configYaml = null, params string[] extraArgs) =>
        StartWithBinaryAsync(NativeBinary.Path, configYaml, extraArgs);

    /// <summary>On a fixed HTTP port (a cluster member needs one: the others list it).</summary>
    public static Task<ExporterProcess> StartOnPortAsync(int port, string configYaml) =>
        StartWithBinaryAsync(NativeBinary.Path, configYaml, port, []);

    /// <summary>Starts another build of the exporter (the npm-installed launcher, say).</summary>
    public static Task<ExporterProcess> StartWithBinaryAsync(string binary, string? configYaml, params string[] extraArgs) =>
        StartWithBinaryAsync(binary, configYaml, 0, extraArgs);

    private static async Task<ExporterProcess> StartWithBinaryAsync(string binary, string? configYaml, int port, string[] extraArgs)
    {
        string home = Directory.CreateTempSubdirectory("aishell-home-").FullName;
        var args = new List<string> { "prometheus", "start", "--host", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        if (configYaml is not null)
        {
            string path = Path.Combine(home, "exporter.yaml");
            await File.WriteAllTextAsync(path, configYaml);
            args.AddRange(["--config", path]);
        }

        args.AddRange(extraArgs);
        var process = Process.Start(ProcessRunner.StartInfo(binary, args, Env(home)))!;
        var exporter = new ExporterProcess(process, home);
        Task exited = process.WaitForExitAsync();
        Task first = await Task.WhenAny(exporter._ready.Task, exited, Task.Delay(TimeSpan.FromSeconds(20)));
        if (first != exporter._ready.Task)
        {
            string why = exited.IsCompleted ? $"exited with {process.ExitCode}" : "was not ready in 20 s";
            await exporter.DisposeAsync();
            Assert.Fail($"exporter {why}. stdout: {string.Join('\n', exporter._stdout)} stderr: {exporter.Stderr}");
        }

        exporter.MetricsUrl = new Uri(await exporter._endpoint.Task);
        return exporter;
    }

    /// <summary>HOME pointed at an empty temp dir, and no AISHELL_CONFIG from the outer environment.</summary>
    public static Dictionary<string, string> Env(string home) => new()
    {
        ["HOME"] = home,
        ["AISHELL_CONFIG"] = "",
        ["DOTNET_gcServer"] = "0",
    };

    /// <summary>Sends SIGTERM and returns the exit code.</summary>
    public async Task<int> StopAsync(int signal = ProcessRunner.SIGTERM)
    {
        if (!_process.HasExited)
        {
            ProcessRunner.Signal(_process, signal);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            try
            {
                await _process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                Assert.Fail("exporter did not exit within 15 s of the signal");
            }
        }

        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                await StopAsync();
            }
        }
        finally
        {
            _process.Dispose();
            Directory.Delete(Home, recursive: true);
        }
    }
}
