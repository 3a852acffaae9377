using AiShell.Pipeline.Actors;
using AiShell.Pipeline.Collectors;
using AiShell.Pipeline.Collectors.Host;
using AiShell.Pipeline.Configuration;
using AiShell.Pipeline.Metrics;
using AiShell.Pipeline.Server;

namespace AiShell.Cli;

/// <summary>
/// Everything `prometheus start` runs, composed from config: registry, collectors, pipeline, server.
/// </summary>
internal sealed class ExporterRuntime : IAsyncDisposable
{
    private ExporterRuntime(MetricRegistry registry, MetricsPipeline pipeline, ExporterServer server)
    {
        Registry = registry;
        Pipeline = pipeline;
        Server = server;
    }

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

        MetricsPipeline pipeline = MetricsPipeline.Start(registry, collectors, new PipelineOptions
        {
            CollectInterval = config.CollectInterval,
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
            return new ExporterRuntime(registry, pipeline, server);
        }
        catch
        {
            if (server is not null)
            {
                await server.DisposeAsync();
            }

            await pipeline.StopAsync(TimeSpan.FromSeconds(5));
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
    }
}
