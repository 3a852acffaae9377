using AiShell.Pipeline.Actors;
using AiShell.Pipeline.Collectors;
using AiShell.Pipeline.Collectors.Host;
using AiShell.Pipeline.Collectors.Postgres;
using AiShell.Pipeline.Configuration;
using AiShell.Pipeline.Metrics;
using AiShell.Pipeline.Metrics.Pipeline;
using AiShell.Pipeline.Server;

namespace AiShell.Cli;

/// <summary>
/// Everything `prometheus start` runs, composed from config: registry, collectors, pipeline, server.
/// </summary>
internal sealed class ExporterRuntime : IAsyncDisposable
{
    private readonly List<IAsyncDisposable> _owned;

    private ExporterRuntime(MetricRegistry registry, MetricsPipeline pipeline, ExporterServer server, List<IAsyncDisposable> owned)
    {
        Registry = registry;
        Pipeline = pipeline;
        Server = server;
        _owned = owned;
    }

    /// <summary>Operational messages (collector failures, discovery) go to stderr with a UTC timestamp.</summary>
    public static void Log(string message) =>
        Console.Error.WriteLine($"{DateTime.UtcNow:yyyy-MM-ddTHH:mm:ss.fffZ} aishell: {message}");

    public MetricRegistry Registry { get; }

    public MetricsPipeline Pipeline { get; }

    public ExporterServer Server { get; }

    public static async Task<ExporterRuntime> StartAsync(ExporterConfig config, CancellationToken cancellationToken)
    {
        var registry = new MetricRegistry(config.ToMetricOptions());
        registry.Register(MetricCatalog.ExporterBuildInfo).WithLabels(BuildInfo.Version).Set(1);
        registry.Register(MetricCatalog.ExporterStartTime).WithLabels()
            .Set(TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0);

        var collectors = new List<ICollector>();
        if (config.MetricsSystem && OperatingSystem.IsLinux() && File.Exists("/proc/stat"))
        {
            collectors.Add(new HostCollector());
        }

        var querySources = new QuerySources();
        var owned = new List<IAsyncDisposable>();
        foreach (PostgresTargetOptions target in await PostgresTargets.ResolveAsync(config, Log, cancellationToken))
        {
            var collector = new PostgresCollector(target, querySources, Log);
            collectors.Add(collector);
            owned.Add(collector);
        }

        MetricsPipeline pipeline = MetricsPipeline.Start(registry, collectors, new PipelineOptions
        {
            CollectInterval = config.CollectInterval,
            // Reconnects back off from 1 s, doubling, up to two intervals (at most 60 s).
            MaxBackoff = TimeSpan.FromSeconds(Math.Clamp(config.CollectInterval.TotalSeconds * 2, 1, 60)),
            Log = Log,
        });

        ExporterServer? server = null;
        try
        {
            server = ExporterServer.Create(registry, pipeline.Status, new ServerOptions
            {
                Host = config.Host,
                Port = config.Port,
                MetricsPath = config.Path,
                Version = BuildInfo.Version,
            });
            await server.StartAsync(cancellationToken);
            return new ExporterRuntime(registry, pipeline, server, owned);
        }
        catch
        {
            if (server is not null)
            {
                await server.DisposeAsync();
            }

            await pipeline.StopAsync(TimeSpan.FromSeconds(5));
            foreach (IAsyncDisposable item in owned)
            {
                await item.DisposeAsync();
            }

            throw;
        }
    }

    /// <summary>Stops taking requests, then stops collecting and folds what is in flight.</summary>
    public async ValueTask DisposeAsync()
    {
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
        {
            await Server.StopAsync(cts.Token);
        }

        await Server.DisposeAsync();
        await Pipeline.StopAsync(TimeSpan.FromSeconds(5));
        foreach (IAsyncDisposable item in _owned)
        {
            await item.DisposeAsync();
        }
    }
}
