using System.CommandLine;
using System.Runtime.InteropServices;
using AiShell.Cli.Loadtest;
using AiShell.Pipeline.Configuration;

namespace AiShell.Cli.Commands;

/// <summary>
/// <c>aishell loadtest</c>: one of --dsn (a PostgreSQL workload recorded in-process), --synthetic
/// (the pipeline alone), --target URL (HTTP NDJSON ingest) or --udp HOST:PORT (DogStatsD ingest).
/// Exit code 1 when the error rate exceeds --max-error-rate (or, for --synthetic, when a recorded
/// event was not counted); 2 for bad options.
/// </summary>
internal static class LoadtestCommand
{
    public static Command Create()
    {
        var dsn = new Option<string?>("--dsn") { Description = "PostgreSQL connection string (Npgsql syntax) for a query workload." };
        var synthetic = new Option<bool>("--synthetic") { Description = "Drive the in-process pipeline alone at full speed; report events/s." };
        var target = new Option<string?>("--target") { Description = "Exporter events URL to push NDJSON to, e.g. http://127.0.0.1:9090/api/v1/events." };
        var udp = new Option<string?>("--udp") { Description = "Exporter DogStatsD HOST:PORT to push datagrams to." };
        var concurrency = new Option<int>("--concurrency") { Description = "Workers (and, with --dsn, pool size). (-c is --config, as in every command.)", DefaultValueFactory = _ => Math.Max(2, Environment.ProcessorCount) };
        var rate = new Option<double?>("--rate") { Description = "Total events (queries) per second; default: closed loop, as fast as possible." };
        var duration = new Option<string>("--duration", "-d") { Description = "How long: 30s, 2m, 500ms.", DefaultValueFactory = _ => "30s" };
        var mix = new Option<string>("--mix") { Description = "Query mix for --dsn.", DefaultValueFactory = _ => "select=80,insert=15,update=5" };
        var batch = new Option<int>("--batch") { Description = "Events per HTTP request for --target.", DefaultValueFactory = _ => 1000 };
        var perEvent = new Option<bool>("--per-event") { Description = "With --synthetic: one Record call per event instead of RecordAll per 256 events." };
        var port = new Option<int?>("--port", "-p") { Description = "Serve the harness's own /metrics on 127.0.0.1:PORT (--dsn, --synthetic)." };
        var maxErrorRate = new Option<double>("--max-error-rate") { Description = "Fail (exit 1) above this error rate (0-1).", DefaultValueFactory = _ => 0.05 };
        Option<string?> config = CliOptions.Config();
        var command = new Command("loadtest", "Generate load against PostgreSQL, the pipeline, or a running exporter.")
        {
            dsn, synthetic, target, udp, concurrency, rate, duration, mix, batch, perEvent, port, maxErrorRate, config,
        };
        command.SetAction((result, _) => RunAsync(result.GetValue(dsn), result.GetValue(synthetic), result.GetValue(target), result.GetValue(udp),
            () => new LoadOptions
            {
                Duration = LoadOptions.ParseDuration(result.GetValue(duration)!),
                Concurrency = result.GetValue(concurrency) is var c and >= 1 and <= 1024 ? c : throw new FormatException("--concurrency must be 1-1024"),
                Rate = result.GetValue(rate) is { } r ? (r > 0 ? r : throw new FormatException("--rate must be positive")) : null,
                Batch = result.GetValue(batch) is var b and >= 1 and <= 100_000 ? b : throw new FormatException("--batch must be 1-100000"),
                Mix = LoadOptions.ParseMix(result.GetValue(mix)!),
                Port = result.GetValue(port),
                PerEvent = result.GetValue(perEvent),
                ConfigPath = result.GetValue(config),
                MaxErrorRate = result.GetValue(maxErrorRate) is var m and >= 0 and <= 1 ? m : throw new FormatException("--max-error-rate must be 0-1"),
            }));
        return command;
    }

    private static async Task<int> RunAsync(string? dsn, bool synthetic, string? target, string? udp, Func<LoadOptions> parse)
    {
        int modes = (dsn is null ? 0 : 1) + (synthetic ? 1 : 0) + (target is null ? 0 : 1) + (udp is null ? 0 : 1);
        if (modes != 1)
        {
            await Console.Error.WriteLineAsync("✗ loadtest: give exactly one of --dsn, --synthetic, --target or --udp");
            return 2;
        }

        LoadOptions options;
        try
        {
            options = parse();
        }
        catch (FormatException ex)
        {
            await Console.Error.WriteLineAsync($"✗ {ex.Message}");
            return 2;
        }

        using var stop = new CancellationTokenSource();
        using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        try
        {
            if (target is not null)
            {
                return Uri.TryCreate(target, UriKind.Absolute, out Uri? uri) && uri.Scheme is "http" or "https"
                    ? await RemoteLoad.RunHttpAsync(uri, options, stop.Token)
                    : await Fail($"--target: '{target}' is not an http(s) URL");
            }

            if (udp is not null)
            {
                return await RemoteLoad.RunUdpAsync(udp, options, stop.Token);
            }

            return synthetic ? await InProcessLoad.RunSyntheticAsync(options, stop.Token) : await PostgresLoad.RunAsync(dsn!, options, stop.Token);
        }
        catch (ConfigException ex)
        {
            return await Fail(ex.Message);
        }
        catch (ArgumentException ex)
        {
            return await Fail(ex.Message);
        }
    }

    private static async Task<int> Fail(string message)
    {
        await Console.Error.WriteLineAsync($"✗ {message}");
        return 2;
    }
}
