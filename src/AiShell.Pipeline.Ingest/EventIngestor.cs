using AiShell.Pipeline.Metrics;
using AiShell.Pipeline.Metrics.Flow;

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

    /// <summary>Tallying builders kept between requests: one per request handled at once, up to this many.</summary>
    private const int MaxKeptBuilders = 16;
    private readonly List<SampleBatchBuilder> _tallying = [];

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

        using EventBatch batch = BeginBatch(source, events.Count);
        for (int i = 0; i < events.Count; i++)
        {
            IngestEvent e = events[i];
            batch.Add(ref e);
        }

        return batch.TryCommit();
    }

    /// <summary>
    /// A batch folded event by event as it is parsed, handed over all together by
    /// <see cref="EventBatch.TryCommit"/> or dropped whole by disposing it uncommitted: a body's
    /// events are never held as a list (a 4 MiB body of short events made a 20 MB one).
    /// </summary>
    public EventBatch BeginBatch(string source, int expectedEvents)
    {
        // A request of many events tallies its query events (they mostly share a few tuples) in a
        // builder kept for the next request, so the tallies are allocated once, not per request. A
        // small one gets a builder sized for query events (three samples each) over the shards.
        bool tally = expectedEvents >= TallyFromEvents;
        SampleBatchBuilder builder = tally ? RentTallying(source) : new SampleBatchBuilder(source, _sink.Shards, (expectedEvents * 3 / _sink.Shards) + 16);
        return new EventBatch(this, builder, source, tally);
    }

    /// <summary>See <see cref="BeginBatch"/>. Not thread-safe: one request's.</summary>
    public sealed class EventBatch : IEventSink, IDisposable
    {
        private readonly EventIngestor _owner;
        private readonly SampleBatchBuilder _builder;
        private readonly string _source;
        private readonly bool _tally;
        private bool _done;

        internal EventBatch(EventIngestor owner, SampleBatchBuilder builder, string source, bool tally)
        {
            _owner = owner;
            _builder = builder;
            _source = source;
            _tally = tally;
        }

        public int Count { get; private set; }

        public void Add(ref IngestEvent e)
        {
            _owner.Schema.Fold(e, _builder);
            Count++;
        }

        /// <summary>Hands everything over; false when the pipeline is full (then nothing was counted).</summary>
        public bool TryCommit()
        {
            _done = true;
            return Count == 0 || _owner.TryHandOver(_builder, Count, _source); // either way the builder is empty after it
        }

        public void Dispose()
        {
            if (!_done)
            {
                _builder.Discard(); // nothing of a batch refused midway may reach the next one
            }

            if (_tally)
            {
                _owner.ReturnTallying(_builder);
            }
        }
    }

    private SampleBatchBuilder RentTallying(string source)
    {
        lock (_tallying)
        {
            for (int i = _tallying.Count - 1; i >= 0; i--)
            {
                if (_tallying[i].Source == source)
                {
                    SampleBatchBuilder reused = _tallying[i];
                    _tallying.RemoveAt(i);
                    return reused;
                }
            }
        }

        return new SampleBatchBuilder(source, _sink.Shards, SampleBatchBuilder.StreamingCapacity, tallyEvents: true);
    }

    private void ReturnTallying(SampleBatchBuilder builder)
    {
        lock (_tallying)
        {
            if (_tallying.Count < MaxKeptBuilders)
            {
                _tallying.Add(builder);
            }
        }
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
