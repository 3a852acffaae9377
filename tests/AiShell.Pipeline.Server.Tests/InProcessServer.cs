using AiShell.Pipeline.Ingest;
using AiShell.Pipeline.Metrics;
using AiShell.Pipeline.Metrics.Flow;

namespace AiShell.Pipeline.Server.Tests;

/// <summary>
/// The exporter's HTTP server in this process on 127.0.0.1 and a free port, with the events
/// endpoint over a real ingestor; <see cref="Drain"/> folds what was accepted, as the aggregators would.
/// </summary>
internal sealed class InProcessServer : IAsyncDisposable
{
    private readonly QueueSink _sink = new();

    private InProcessServer(ServerOptions options)
    {
        Registry = new MetricRegistry(new MetricOptions());
        var schema = new EventSchema(Registry, [1], [
            new CustomEventMetric("business_transactions", MetricType.Counter, "tx", ["type"], null, "business_transactions_total"),
        ], new QuerySources());
        Ingestor = new EventIngestor(Registry, schema, _sink);
        Server = ExporterServer.Create(Registry, new NoCollectors(), new ServerOptions
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
        while (_sink.Queue.TryDequeue(out SampleBatch? batch))
        {
            batch.Fold();
            batch.Release();
        }
    }

    /// <summary>A series' value; 0 when it was never written.</summary>
    public double Value(string family, params string[] labels)
    {
        Series series = Registry.Find("aishell_" + family)!.WithLabels(labels);
        return series.HasValue ? series.Value : 0;
    }

    public ValueTask DisposeAsync() => Server.DisposeAsync();

    /// <summary>Batches queued as handed over, folded by <see cref="Drain"/>.</summary>
    private sealed class QueueSink : ISampleSink
    {
        public System.Collections.Concurrent.ConcurrentQueue<SampleBatch> Queue { get; } = new();

        public int Shards => 2;

        public long Pending => 0;

        public bool TryWriteAll(IReadOnlyList<SampleBatch> batches)
        {
            foreach (SampleBatch batch in batches)
            {
                Queue.Enqueue(batch);
            }

            return true;
        }

        public bool WaitForRoom(TimeSpan timeout) => true;
    }

    private sealed class NoCollectors : IExporterStatus
    {
        public bool Ready => true;

        public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;

        public IReadOnlyList<CollectorStatus> Collectors() => [];
    }
}
