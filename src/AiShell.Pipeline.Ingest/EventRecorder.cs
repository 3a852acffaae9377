using AiShell.Pipeline.Metrics.Flow;

namespace AiShell.Pipeline.Ingest;

/// <summary>
/// The in-process API for .NET callers: record query, connection, request, feature, users and
/// custom events from any thread. Events are folded into one of a few striped builders (a short,
/// mostly uncontended lock) and handed to the pipeline in batches: when one of a stripe's shards
/// nears <see cref="FlushThreshold"/> samples, and every <see cref="FlushInterval"/> for the rest.
/// When the pipeline is full the recording thread waits (backpressure): nothing recorded is lost.
/// </summary>
public sealed class EventRecorder : IDisposable
{
    /// <summary>
    /// Samples per shard per hand-over, at most: one streaming array
    /// (<see cref="SampleBatchBuilder.StreamingCapacity"/>). Small enough that a stripe's arrays
    /// stay in the core's L2 cache while they are filled and folded (2,000-sample batches measured
    /// slower: every write missed), large enough that the channel and wake-up cost per batch is
    /// noise; and a batch's array never grows onto the large-object heap (LOH churn once cost 60%
    /// of throughput).
    /// </summary>
    public const int FlushThreshold = SampleBatchBuilder.StreamingCapacity;
    public static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan RoomWait = TimeSpan.FromMilliseconds(10); // then try again regardless

    private readonly EventIngestor _ingestor;
    private readonly Stripe[] _stripes;
    private readonly Timer _timer;
    private int _disposed;

    public EventRecorder(EventIngestor ingestor)
    {
        ArgumentNullException.ThrowIfNull(ingestor);
        _ingestor = ingestor;
        _stripes = new Stripe[Math.Max(2, Environment.ProcessorCount * 2)];
        for (int i = 0; i < _stripes.Length; i++)
        {
            _stripes[i] = new Stripe(new SampleBatchBuilder(IngestSources.InProcess, ingestor.Shards, FlushThreshold, ingestor.Schema.MaxSamplesPerEvent, tallyEvents: true));
        }

        _timer = new Timer(static state => ((EventRecorder)state!).FlushIdle(), this, FlushInterval, FlushInterval);
    }

    /// <summary>Records an event; returns why it was rejected, or null when accepted.</summary>
    public string? Record(IngestEvent e)
    {
        string? error = _ingestor.Schema.Validate(ref e);
        if (error is not null)
        {
            _ingestor.Rejected(IngestSources.InProcess, "invalid");
            return error;
        }

        Stripe stripe = CurrentStripe();
        lock (stripe.Gate)
        {
            FoldLocked(stripe, e);
        }

        return null;
    }

    /// <summary>
    /// Records many events under one stripe lock (the lock was a sixth of the per-event cost).
    /// Invalid events are skipped and counted as rejected ("invalid"); returns how many were accepted.
    /// The span's events may be normalised in place.
    /// </summary>
    public int RecordAll(Span<IngestEvent> events)
    {
        int accepted = 0;
        Stripe stripe = CurrentStripe();
        lock (stripe.Gate)
        {
            foreach (ref IngestEvent e in events)
            {
                if (_ingestor.Schema.Validate(ref e) is null)
                {
                    FoldLocked(stripe, e);
                    accepted++;
                }
            }
        }

        if (accepted < events.Length)
        {
            _ingestor.Rejected(IngestSources.InProcess, "invalid", events.Length - accepted);
        }

        return accepted;
    }

    [ThreadStatic]
    private static int t_stripe; // 1 + this thread's stripe number; 0 until first used

    private static int s_nextStripe;

    /// <summary>
    /// Threads take stripes in turn, so the first threads that record each get their own. (The thread
    /// id modulo the stripe count put two recording threads on one stripe about a quarter of the
    /// time: they then shared a lock and a builder, and throughput halved.)
    /// </summary>
    private Stripe CurrentStripe()
    {
        int stripe = t_stripe;
        if (stripe == 0)
        {
            t_stripe = stripe = 1 + (Interlocked.Increment(ref s_nextStripe) & int.MaxValue);
        }

        return _stripes[(uint)(stripe - 1) % (uint)_stripes.Length];
    }

    private void FoldLocked(Stripe stripe, in IngestEvent e)
    {
        _ingestor.Schema.Fold(e, stripe.Builder);
        stripe.Events++;
        if (stripe.Builder.NearlyFull)
        {
            Flush(stripe);
        }
    }

    public string? Query(string database, string type, string status, double seconds, string? error = null, string? traceId = null) =>
        Record(IngestEvent.Query(database, type, status, seconds, error, traceId));

    public string? Connection(string database, double? active, double? poolSize, double? waitSeconds = null) =>
        Record(new IngestEvent { Kind = EventKind.Connection, Database = database, Active = active, PoolSize = poolSize, Wait = waitSeconds });

    public string? ConnectionError(string database, string error) =>
        Record(new IngestEvent { Kind = EventKind.ConnectionError, Database = database, Error = error });

    public string? Request(string method, string endpoint, int status, double seconds, double? sizeBytes = null) =>
        Record(new IngestEvent { Kind = EventKind.Request, Method = method, Endpoint = endpoint, HttpStatus = status, Duration = seconds, Size = sizeBytes });

    public string? Feature(string feature, double count = 1) =>
        Record(new IngestEvent { Kind = EventKind.Feature, Feature = feature, Value = count });

    public string? Users(string role, double active) =>
        Record(new IngestEvent { Kind = EventKind.Users, Role = role, Active = active });

    public string? Custom(string name, List<KeyValuePair<string, string>> labels, double value) =>
        Record(new IngestEvent { Kind = EventKind.Custom, Name = name, Labels = labels, Value = value });

    /// <summary>Hands over everything recorded so far (waiting while the pipeline is full).</summary>
    public void FlushAll()
    {
        foreach (Stripe stripe in _stripes)
        {
            lock (stripe.Gate)
            {
                if (stripe.Events > 0)
                {
                    Flush(stripe);
                }
            }
        }
    }

    /// <summary>
    /// The timer's hand-over: stripes whose lock is free. A held lock means a recording thread is
    /// in the stripe (and hands over at the threshold), or one is waiting for room in a full
    /// pipeline: blocking here would take a pool thread per tick, twenty a second, faster than the
    /// pool adds threads, until nothing that needs the pool could run.
    /// </summary>
    private void FlushIdle()
    {
        foreach (Stripe stripe in _stripes)
        {
            if (stripe.Events == 0 || !stripe.Gate.TryEnter())
            {
                continue;
            }

            try
            {
                if (stripe.Events > 0)
                {
                    Flush(stripe);
                }
            }
            finally
            {
                stripe.Gate.Exit();
            }
        }
    }

    private void Flush(Stripe stripe)
    {
        List<SampleBatch> batches = stripe.Batches;
        stripe.Builder.BuildInto(batches);
        int events = stripe.Events;
        stripe.Events = 0;
        while (!_ingestor.TryWrite(batches, events, IngestSources.InProcess))
        {
            _ingestor.WaitForRoom(RoomWait); // full: block until the aggregators make room, keep the events
        }

        batches.Clear(); // the channels hold the batches now; the list is only the hand-over
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _timer.Dispose();
            FlushAll();
        }
    }

    private sealed class Stripe(SampleBatchBuilder builder)
    {
        public readonly Lock Gate = new();
        public readonly SampleBatchBuilder Builder = builder;
        public readonly List<SampleBatch> Batches = []; // reused for every hand-over
        public int Events;
    }
}
