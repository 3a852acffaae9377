using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace AiShell.Pipeline.IntegrationTests.Harness;

internal sealed record RunResult(int ExitCode, string Stdout, string Stderr)
{
    public string All => Stdout + Stderr;
}

internal static partial class ProcessRunner
{
    public const int SIGTERM = 15;
    public const int SIGINT = 2;
    public const int SIGSTOP = 19;
    public const int SIGCONT = 18;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    public static void Signal(Process process, int signal) =>
        Assert.Equal(0, Kill(process.Id, signal));

    public static ProcessStartInfo StartInfo(string file, IEnumerable<string> args, IReadOnlyDictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        foreach ((string k, string v) in env ?? new Dictionary<string, string>())
        {
            psi.Environment[k] = v;
        }

        return psi;
    }

    /// <summary>Runs to completion (bounded by <paramref name="timeout"/>), feeding <paramref name="stdin"/>.</summary>
    public static async Task<RunResult> RunAsync(string file, IEnumerable<string> args, IReadOnlyDictionary<string, string>? env = null,
        string? stdin = null, TimeSpan? timeout = null)
    {
        using var process = Process.Start(StartInfo(file, args, env))!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{file} {string.Join(' ', args)} did not finish in time");
        }

        return new RunResult(process.ExitCode, await stdout, await stderr);
    }

    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
