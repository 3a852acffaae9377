using System.Collections.Concurrent;
using AiShell.Pipeline.Metrics;

namespace AiShell.Pipeline.Ingest;

/// <summary>The ingest paths' own metrics: received, rejected by reason, dropped, batch sizes.</summary>
internal sealed class IngestStats
{
    private readonly MetricFamily _received, _rejected, _dropped, _batchEvents;
    private readonly ConcurrentDictionary<(MetricFamily, string, string), Series> _cache = new();

    public IngestStats(MetricRegistry registry)
    {
        _received = registry.Register(MetricCatalog.EventsReceivedTotal);
        _rejected = registry.Register(MetricCatalog.EventsRejectedTotal);
        _dropped = registry.Register(MetricCatalog.EventsDroppedTotal);
        _batchEvents = registry.Register(MetricCatalog.IngestBatchEvents);
        foreach (string source in new[] { IngestSources.Http, IngestSources.Udp, IngestSources.InProcess })
        {
            _received.WithLabels(source).Add(0);
            _dropped.WithLabels(source).Add(0);
        }
    }

    public void Received(string source, int events)
    {
        Get(_received, source, "").Add(events);
        Get(_batchEvents, source, "").Observe(events);
    }

    public void Rejected(string source, string reason, int events = 1) => Get(_rejected, source, reason).Add(events);

    public void Dropped(string source, int events) => Get(_dropped, source, "").Add(events);

    private Series Get(MetricFamily family, string source, string reason) =>
        _cache.GetOrAdd((family, source, reason), static key =>
            key.Item3.Length == 0 ? key.Item1.WithLabels(key.Item2) : key.Item1.WithLabels(key.Item2, key.Item3));
}

public static class IngestSources
{
    public const string Http = "http";
    public const string Udp = "udp";
    public const string InProcess = "inprocess";
}
