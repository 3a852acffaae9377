using AiShell.Pipeline.Configuration;
using AiShell.Pipeline.Server.Discovery;

namespace AiShell.Cli.Runtime;

/// <summary>
/// Service discovery around one `prometheus start`: the http_sd target list, the --file-sd file,
/// and Consul registration. Undone on a clean stop (file removed, service deregistered). A Consul
/// agent that cannot be reached is reported and the exporter keeps serving.
/// </summary>
internal sealed class DiscoveryHooks : IAsyncDisposable
{
    private readonly FileSdWriter? _fileSd;
    private readonly ConsulRegistration? _consul;
    private bool _registered;

    private DiscoveryHooks(FileSdWriter? fileSd, ConsulRegistration? consul)
    {
        _fileSd = fileSd;
        _consul = consul;
    }

    /// <summary>Lines to print once the exporter has announced itself (after the integration guide's three lines).</summary>
    public List<string> Messages { get; } = [];

    public static async Task<DiscoveryHooks> StartAsync(ExporterConfig config, ExporterRuntime runtime, string? fileSdPath, CancellationToken cancellationToken)
    {
        string self = DiscoveryTargets.Advertise(config.DiscoveryAdvertise, config.Host, runtime.Server.Port);
        var targets = new DiscoveryTargets(self, config.DiscoveryPeers, config.Path) { Members = runtime.Cluster is { } cluster ? cluster.HttpEndpoints : null };
        runtime.Server.Targets = targets;

        FileSdWriter? fileSd = fileSdPath is null ? null : new FileSdWriter(fileSdPath);
        ConsulRegistration? consul = config.ConsulAddress is { } address
            ? new ConsulRegistration(new Uri(address), config.ConsulService, self, config.Path)
            : null;
        var hooks = new DiscoveryHooks(fileSd, consul);
        if (fileSd is not null)
        {
            fileSd.Write(targets);
            hooks.Messages.Add($"✓ file_sd targets: {fileSd.Path}");
        }

        if (consul is not null)
        {
            try
            {
                await consul.RegisterAsync(cancellationToken);
                hooks._registered = true;
                hooks.Messages.Add($"✓ Registered with Consul as {consul.ServiceId}");
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                ExporterRuntime.Log($"Consul registration at {config.ConsulAddress} failed, serving anyway: {ex.Message}");
            }
        }

        return hooks;
    }

    public async ValueTask DisposeAsync()
    {
        _fileSd?.Remove();
        if (_consul is not null)
        {
            if (_registered)
            {
                try
                {
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                    await _consul.DeregisterAsync(timeout.Token);
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                    ExporterRuntime.Log($"Consul deregistration failed: {ex.Message}");
                }
            }

            _consul.Dispose();
        }
    }
}
