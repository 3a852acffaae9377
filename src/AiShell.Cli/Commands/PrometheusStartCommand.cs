using System.CommandLine;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using AiShell.Cli.Runtime;
using AiShell.Pipeline.Configuration;

namespace AiShell.Cli.Commands;

/// <summary>
/// <c>aishell prometheus start [--config FILE] [--port N] [--host H] [--path P]</c>: runs in the
/// foreground until SIGINT or SIGTERM, then stops cleanly with exit code 0.
/// </summary>
internal static class PrometheusStartCommand
{
    public static Command Create()
    {
        Option<string?> config = CliOptions.Config();
        Option<int?> port = CliOptions.Port("Port to listen on (overrides prometheus.port; 0 picks a free port).");
        Option<string?> host = CliOptions.Host("Address to bind (overrides prometheus.host).");
        var path = new Option<string?>("--path") { Description = "Metrics path (overrides prometheus.path)." };
        var fileSd = new Option<string?>("--file-sd") { Description = "Keep a Prometheus file_sd JSON file for this instance (written on start, removed on stop)." };
        var logLevel = new Option<string>("--log-level")
        {
            Description = "info: one line per event, repeated collector failures limited to one a minute; debug: collector failures with their stack traces.",
            DefaultValueFactory = _ => "info",
        };
        logLevel.AcceptOnlyFromAmong("info", "debug");
        var command = new Command("start", "Start the metrics exporter in the foreground.") { config, port, host, path, fileSd, logLevel };
        command.SetAction((result, _) => RunAsync(result.GetValue(config), result.GetValue(port), result.GetValue(host), result.GetValue(path),
            result.GetValue(fileSd), result.GetValue(logLevel) == "debug"));
        return command;
    }

    private static async Task<int> RunAsync(string? configPath, int? port, string? host, string? path, string? fileSd, bool debugLog)
    {
        ExporterConfig config;
        try
        {
            config = ExporterRuntime.LoadConfig(configPath);
            ApplyOverrides(config, port, host, path);
        }
        catch (ConfigException ex)
        {
            await Console.Error.WriteLineAsync($"✗ {ex.Message}");
            return 2;
        }

        if (!config.Enabled)
        {
            await Console.Error.WriteLineAsync($"✗ prometheus.enabled is false in {config.Source}: nothing to start");
            return 1;
        }

        using var stop = new CancellationTokenSource();
        using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);

        ExporterRuntime runtime;
        try
        {
            runtime = await ExporterRuntime.StartAsync(config, stop.Token, debugLog);
        }
        catch (ConfigException ex)
        {
            await Console.Error.WriteLineAsync($"✗ {ex.Message}");
            return 2;
        }
        catch (ClusterListenException ex)
        {
            await Console.Error.WriteLineAsync($"✗ {ex.Message}");
            return 1;
        }
        catch (ArgumentException ex)
        {
            await Console.Error.WriteLineAsync($"✗ {config.Source}: {ex.Message}");
            return 2;
        }
        catch (Exception ex) when (ex is IOException or SocketException or InvalidOperationException)
        {
            await Console.Error.WriteLineAsync($"✗ cannot listen on {config.Host}:{config.Port}: {ex.GetBaseException().Message}");
            return 1;
        }

        // Removed by the other members (this one was unreachable past down_after), or this process
        // did not run for down_after (it may have been): its databases are theirs now. Exit 3 so
        // that a supervisor starts it again as a new member.
        int exitCode = 0;
        void Removed()
        {
            Console.Error.WriteLine("✗ cluster: this member was removed by the others, or did not run for longer than prometheus.cluster.down_after (stopped or frozen, so they may have removed it); exiting so it can join again as a new member");
            exitCode = 3;
            stop.Cancel();
        }

        runtime.RemovedFromCluster += Removed;
        if (runtime.RemovedByCluster) // before the subscription
        {
            Removed();
        }

        await using (runtime)
        {
            Console.WriteLine("✓ Prometheus exporter started");
            string scheme = config.Web.TlsCertFile is null ? "http" : "https";
            Console.WriteLine($"✓ Metrics endpoint: {scheme}://{CliOptions.DisplayHost(config.Host)}:{runtime.Server.Port}{config.Path}");
            if (config.ClusterEnabled)
            {
                Console.WriteLine($"✓ Cluster member of '{config.ClusterName}': remoting on {config.ClusterHost}:{config.ClusterPort}, seed nodes {string.Join(", ", config.ClusterSeedNodes)}");
            }

            await WaitForFirstFoldAsync(runtime, stop.Token);
            await using DiscoveryHooks discovery = await DiscoveryHooks.StartAsync(config, runtime, fileSd, stop.Token);
            Console.WriteLine("✓ Ready for scraping");
            string display = CliOptions.DisplayHost(config.Host);
            if (config.IngestHttp)
            {
                Console.WriteLine($"✓ Event ingest: POST {scheme}://{display}:{runtime.Server.Port}/api/v1/events");
            }

            if (runtime.Udp is { } udp)
            {
                Console.WriteLine($"✓ DogStatsD ingest: udp://{display}:{udp.Port}");
            }

            foreach (string line in discovery.Messages)
            {
                Console.WriteLine(line);
            }

            using var reloader = new ConfigReloader(configPath, config, runtime, c => ApplyOverrides(c, port, host, path));
            using PosixSignalRegistration sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
            {
                context.Cancel = true; // SIGHUP reloads; it does not end the process
                ThreadPool.QueueUserWorkItem(_ => reloader.Reload("SIGHUP", fromSignal: true));
            });

            try
            {
                await Task.Delay(Timeout.Infinite, stop.Token);
            }
            catch (OperationCanceledException)
            {
                // SIGINT / SIGTERM: fall through to the orderly stop below.
            }
        }

        Console.WriteLine("✓ Prometheus exporter stopped");
        return exitCode;

        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true; // we exit on our own, with code 0, after stopping in order
            stop.Cancel();
        }
    }

    /// <summary>"Ready" means the first collection is folded; bounded so a stuck source cannot hide the line.</summary>
    private static async Task WaitForFirstFoldAsync(ExporterRuntime runtime, CancellationToken cancellationToken)
    {
        long deadline = Environment.TickCount64 + 10_000;
        while (!runtime.Pipeline.Status.Ready && Environment.TickCount64 < deadline && !cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(5, CancellationToken.None);
        }
    }

    private static void ApplyOverrides(ExporterConfig config, int? port, string? host, string? path)
    {
        if (port is { } p)
        {
            config.Port = p is >= 0 and <= 65535 ? p : throw new ConfigException($"--port: {p} is out of range 0-65535");
        }

        if (host is not null)
        {
            Override(config, "prometheus.host", host, "--host");
        }

        if (path is not null)
        {
            Override(config, "prometheus.path", path, "--path");
        }
    }

    private static void Override(ExporterConfig config, string key, string value, string option)
    {
        string? reason = ConfigKeys.Find(key)!.ApplyText(config, value);
        if (reason is not null)
        {
            throw new ConfigException($"{option}: {reason}");
        }
    }
}
