using AiShell.Pipeline.Metrics;
using AiShell.Pipeline.Metrics.Pipeline;

namespace AiShell.Pipeline.Ingest;

/// <summary>
/// The one pipeline behind the ingest paths: validated events are folded into per-shard batches
/// and admitted all together, or not at all. Invariant (tested): an accepted event is counted
/// exactly once; a refused batch is counted nowhere.
/// </summary>
public sealed class EventIngestor
{
    private readonly ISampleSink _sink;
    private readonly IngestStats _stats;

    public EventIngestor(MetricRegistry registry, EventSchema schema, ISampleSink sink)
    {
        ArgumentNullException.ThrowIfNull(registry);
        Schema = schema;
        _sink = sink;
        _stats = new IngestStats(registry);
    }

    public EventSchema Schema { get; }

    /// <summary>Requests of at least this many events are tallied (see <see cref="SampleBatchBuilder.RecordEvent"/>).</summary>
    internal const int TallyFromEvents = 64;

    public int Shards => _sink.Shards;

    /// <summary>
    /// Folds already-validated events and hands them over atomically. False when the pipeline is
    /// full: nothing was counted, the caller answers 429 (HTTP) or drops and counts (UDP).
    /// </summary>
    public bool TryIngest(IReadOnlyList<IngestEvent> events, string source)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (events.Count == 0)
        {
            return true;
        }

        // Sized for query events (three samples each, the usual request) spread over the shards: a
        // 1,000-event request then fills one array per shard instead of growing through five.
        // Requests of many events tally them (a request's events mostly share a few tuples); a
        // small one would allocate the tallies for a handful of events.
        var builder = new SampleBatchBuilder(source, _sink.Shards, Math.Min(1 << 16, (events.Count * 3 / _sink.Shards) + 16),
            tallyEvents: events.Count >= TallyFromEvents);
        for (int i = 0; i < events.Count; i++)
        {
            Schema.Fold(events[i], builder);
        }

        return TryHandOver(builder, events.Count, source);
    }

    /// <summary>
    /// Hands over what a builder holds, or releases it and returns false when the pipeline is full.
    /// A loop that hands over often passes its own <paramref name="batches"/> list to reuse.
    /// </summary>
    internal bool TryHandOver(SampleBatchBuilder builder, int events, string source, List<SampleBatch>? batches = null)
    {
        batches ??= [];
        builder.BuildInto(batches);
        bool written = TryWrite(batches, events, source);
        if (!written)
        {
            foreach (SampleBatch batch in batches)
            {
                batch.Release();
            }
        }

        batches.Clear();
        return written;
    }

    /// <summary>One all-or-nothing attempt; the caller keeps the batches when it fails (and may retry).</summary>
    internal bool TryWrite(List<SampleBatch> batches, int events, string source)
    {
        if (!_sink.TryWriteAll(batches))
        {
            return false;
        }

        _stats.Received(source, events);
        return true;
    }

    /// <summary>Blocks (up to <paramref name="timeout"/>) until the pipeline has room again.</summary>
    internal bool WaitForRoom(TimeSpan timeout) => _sink.WaitForRoom(timeout);

    internal void Rejected(string source, string reason, int events = 1) => _stats.Rejected(source, reason, events);

    internal void Dropped(string source, int events) => _stats.Dropped(source, events);

    /// <summary>Counts a refused HTTP batch: its events are rejected (400) or refused (429), never folded.</summary>
    public void CountRefused(string source, string reason, int events)
    {
        if (reason == "full")
        {
            _stats.Dropped(source, events);
        }
        else
        {
            _stats.Rejected(source, reason, events);
        }
    }
}
