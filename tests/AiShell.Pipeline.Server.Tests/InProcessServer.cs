using AiShell.Pipeline.Actors;
using AiShell.Pipeline.Ingest;
using AiShell.Pipeline.Metrics;
using AiShell.Pipeline.Metrics.Pipeline;

namespace AiShell.Pipeline.Server.Tests;

/// <summary>
/// The exporter's HTTP server in this process on 127.0.0.1 and a free port, with the events
/// endpoint over a real ingestor; <see cref="Drain"/> folds what was accepted, as the aggregators would.
/// </summary>
internal sealed class InProcessServer : IAsyncDisposable
{
    private readonly ShardChannels _channels = new(2, 1_000_000);

    private InProcessServer(ServerOptions options)
    {
        Registry = new MetricRegistry(new MetricOptions());
        var schema = new EventSchema(Registry, [1], [
            new CustomEventMetric("business_transactions", MetricType.Counter, "tx", ["type"], null, "business_transactions_total"),
        ], new QuerySources());
        Ingestor = new EventIngestor(Registry, schema, _channels);
        Server = ExporterServer.Create(Registry, new PipelineStatus([], DateTimeOffset.UtcNow), new ServerOptions
        {
            Host = "127.0.0.1",
            Port = 0,
            Events = Ingestor,
            MaxEventBodyBytes = options.MaxEventBodyBytes,
            MaxInflightBytes = options.MaxInflightBytes,
        });
    }

    public MetricRegistry Registry { get; }

    public EventIngestor Ingestor { get; }

    public ExporterServer Server { get; }

    public Uri Events => new($"http://127.0.0.1:{Server.Port}/api/v1/events");

    public static async Task<InProcessServer> StartAsync(long maxBodyBytes = 4 * 1024 * 1024)
    {
        var server = new InProcessServer(new ServerOptions { MaxEventBodyBytes = maxBodyBytes, MaxInflightBytes = Math.Max(64 * 1024 * 1024, maxBodyBytes) });
        await server.Server.StartAsync(CancellationToken.None);
        return server;
    }

    /// <summary>Folds every queued batch.</summary>
    public void Drain()
    {
        for (int shard = 0; shard < _channels.Count; shard++)
        {
            while (_channels.Reader(shard).TryRead(out SampleBatch? batch))
            {
                _channels.Release(batch.Count);
                batch.Fold();
                batch.Release();
            }
        }
    }

    /// <summary>A series' value; 0 when it was never written.</summary>
    public double Value(string family, params string[] labels)
    {
        Series series = Registry.Find("aishell_" + family)!.WithLabels(labels);
        return series.HasValue ? series.Value : 0;
    }

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}
