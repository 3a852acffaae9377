using System.Runtime.ExceptionServices;
using AiShell.Pipeline.Metrics.Internal;

namespace AiShell.Pipeline.Metrics.Exposition;

/// <summary>
/// Streams a large registry's exposition on more than one core. The series are cut into pieces of
/// about <see cref="PieceBytes"/> of text each, in exposition order; helper threads and the caller claim
/// pieces in that order, each writes its piece into one of its own few buffers, and the caller
/// sends the finished pieces in order. The text is the same, byte for byte, as
/// <see cref="ExpositionWriter.WriteAsync"/> writes.
/// <para>
/// A writer's buffers are its own (not one ring all share), so a piece is written into memory
/// already in that core's cache rather than one the other core wrote last. A writer that is a few
/// pieces ahead of the send (a slow client) waits instead of buffering, so memory stays bounded.
/// One scrape at a time has the helpers; a scrape that finds them busy, or a registry under
/// <see cref="MinSeries"/> (where queuing a helper costs more than it saves), streams on the caller
/// alone. A helper that starts late only means the caller writes more of the pieces. A
/// steady-state scrape allocates nothing: the pieces, the buffers and the helper threads are kept. The
/// helpers are threads of their own (started by the first large scrape, asleep between scrapes), not
/// thread-pool work items: with those, BenchmarkDotNet counted 18 B per scrape on average (none on
/// the caller's thread: the pool's own), and a pool busy with ingest would start them late.
/// </para>
/// </summary>
public sealed class ParallelScrapeWriter : IDisposable
{
    /// <summary>Series below which a scrape stays on one thread (10,000 series of the product's shape take about 0.7 ms).</summary>
    public const int DefaultMinSeries = 10_000;

    /// <summary>
    /// Text a piece is cut to hold, about. Handing a piece over costs a few shared writes, and two
    /// writers taking turns read neighbouring series: at 32 KiB a 100k-series scrape took 6.1–6.6 ms,
    /// at 128 KiB 5.0–5.4 ms, at 256 KiB 4.8–5.4 ms (medians of three alternating runs, two cores).
    /// </summary>
    public const int DefaultPieceBytes = 128 * 1024;

    /// <summary>Buffers per writer: how far (in pieces) a writer may get ahead of the send.</summary>
    private const int BuffersPerWriter = 4;

    private const int Closed = int.MaxValue;

    private readonly object _gate = new(); // joining and leaving helpers; Monitor.Wait for the last to leave
    private readonly ManualResetEventSlim _pieceDone = new(false); // the caller waits for a helper's piece
    private readonly ManualResetEventSlim _bufferFreed = new(false); // a helper waits for one of its buffers
    private readonly Writer[] _writers; // [0] the caller, then the helpers
    private readonly Slot[] _slots; // piece k is in slot k % length until sent
    private Piece[] _pieces = new Piece[256];
    private int _count;
    private bool _openMetrics;
    private int _claimed = Closed; // the next piece to claim; Closed between scrapes
    private int _sent; // pieces sent (or skipped empty): piece _sent is the next to go out
    private int _callerWaiting; // 1 while the caller waits for a piece: helpers wake it
    private int _busy; // 1 while a scrape holds the helpers
    private bool _open; // helpers may join (under _gate)
    private int _joined; // helpers joined this scrape (under _gate)
    private int _active; // helpers joined and not yet left (under _gate)
    private int _queued; // helpers woken for a scrape that have not started on it
    private readonly SemaphoreSlim _wake = new(0); // one release per helper woken
    private Thread[]? _helperThreads; // started by the first large scrape
    private volatile bool _disposed;
    private ExceptionDispatchInfo? _failure;
    private long _helperPieces;

    /// <param name="helpers">Threads that write alongside the caller; -1 for one fewer than the processors.</param>
    /// <param name="minSeries">Registries with fewer series are written on the caller alone.</param>
    /// <param name="pieceBytes">Text a piece is cut to hold, about.</param>
    public ParallelScrapeWriter(int helpers = -1, int minSeries = DefaultMinSeries, int pieceBytes = DefaultPieceBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(helpers, -1);
        ArgumentOutOfRangeException.ThrowIfNegative(minSeries);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pieceBytes);
        Helpers = helpers == -1 ? Math.Max(0, Environment.ProcessorCount - 1) : helpers;
        MinSeries = minSeries;
        PieceBytes = pieceBytes;
        _writers = new Writer[Helpers + 1];
        for (int i = 0; i < _writers.Length; i++)
        {
            _writers[i] = new Writer();
        }

        // Pieces claimed and not sent are at most every writer's buffers: their slots never collide.
        _slots = new Slot[_writers.Length * BuffersPerWriter];
    }

    public int Helpers { get; }

    public int MinSeries { get; }

    public int PieceBytes { get; }

    /// <summary>How far (in pieces) a writer may get ahead of the send.</summary>
    internal static int WriterBuffers => BuffersPerWriter;

    /// <summary>Whether any helper thread is alive (started and not yet ended by <see cref="Dispose"/>).</summary>
    internal bool HelpersAlive => _helperThreads?.Any(t => t.IsAlive) ?? false;

    /// <summary>Pieces the helpers wrote, over the writer's life.</summary>
    internal long HelperPieces => Interlocked.Read(ref _helperPieces);

    /// <summary>
    /// As <see cref="ExpositionWriter.WriteAsync"/>: sends the exposition to <paramref name="destination"/>
    /// and leaves the last piece in <paramref name="buffer"/> for the caller to send; returns the
    /// bytes already sent. Pieces are cut at <see cref="PieceBytes"/> when writers share the work;
    /// <paramref name="flushAt"/> applies when the caller streams alone.
    /// </summary>
    public ValueTask<long> WriteAsync(ScrapeBuffer buffer, MetricRegistry registry, ExpositionFormat format,
        Stream destination, int flushAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(flushAt);
        if (Helpers == 0 || _disposed || registry.SeriesCount < MinSeries || Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            return ExpositionWriter.WriteAsync(buffer, registry, format, destination, flushAt, cancellationToken);
        }

        return WriteParallelAsync(buffer, registry, format, destination, cancellationToken);
    }

    private async ValueTask<long> WriteParallelAsync(ScrapeBuffer buffer, MetricRegistry registry, ExpositionFormat format,
        Stream destination, CancellationToken cancellationToken)
    {
        try
        {
            Open(registry, format);
            Writer caller = _writers[0];
            long sent = 0;
            while (_sent < _count)
            {
                int next = _sent % _slots.Length;
                if (Volatile.Read(ref _slots[next].Done) == _sent + 1)
                {
                    _failure?.Throw();
                    (ScrapeBuffer piece, Writer owner) = (_slots[next].Buffer!, _slots[next].Owner!);
                    if (piece.Length > 0)
                    {
                        await destination.WriteAsync(piece.WrittenMemory, cancellationToken).ConfigureAwait(false);
                        sent += piece.Length;
                    }

                    _sent++;
                    if (owner == caller)
                    {
                        owner.Sent++;
                    }
                    else
                    {
                        Interlocked.Increment(ref owner.Sent); // a full fence before reading Waiting
                        if (Volatile.Read(ref owner.Waiting) != 0)
                        {
                            _bufferFreed.Set();
                        }
                    }

                    continue;
                }

                if (TryWriteNext(caller))
                {
                    continue;
                }

                // The next piece is a helper's, and this writer's buffers are full or nothing is left to claim.
                _pieceDone.Reset();
                Interlocked.Exchange(ref _callerWaiting, 1);
                if (Volatile.Read(ref _slots[next].Done) != _sent + 1 && _failure is null)
                {
                    _pieceDone.Wait(1, CancellationToken.None); // short: the piece is being written
                }

                Volatile.Write(ref _callerWaiting, 0);
            }

            _failure?.Throw();
            ExpositionWriter.WriteTail(buffer, RegistryText.Of(registry).Externals, registry, format);
            return sent;
        }
        finally
        {
            Close();
            Volatile.Write(ref _busy, 0);
        }
    }

    /// <summary>Cuts the registry into pieces, opens claiming and queues the helpers.</summary>
    private void Open(MetricRegistry registry, ExpositionFormat format)
    {
        _count = 0;
        RegistryText texts = RegistryText.Of(registry);
        foreach (MetricFamily family in registry.FamilySnapshot)
        {
            Cut(family, texts[family]);
        }

        Array.Clear(_slots);
        foreach (Writer writer in _writers)
        {
            writer.Claims = 0;
            writer.Sent = 0;
        }

        _sent = 0;
        _failure = null;
        _openMetrics = format == ExpositionFormat.OpenMetrics;
        Volatile.Write(ref _claimed, 0);
        lock (_gate)
        {
            _open = true; // helpers join under the lock, after it: they see the pieces and the open claim
            _joined = 0;
        }

        if (_helperThreads is null)
        {
            StartHelpers();
        }

        while (Volatile.Read(ref _queued) < Helpers)
        {
            Interlocked.Increment(ref _queued);
            _wake.Release();
        }
    }

    /// <summary>
    /// Stops claiming and waits for the helpers that joined to leave; each finishes the piece it
    /// holds first. A helper woken late finds the writer closed (or joins a later scrape).
    /// </summary>
    private void Close()
    {
        Volatile.Write(ref _claimed, Closed);
        _bufferFreed.Set(); // wakes a helper waiting for a buffer
        lock (_gate)
        {
            _open = false;
            while (_active > 0)
            {
                Monitor.Wait(_gate);
            }
        }

        Array.Fill(_pieces, default, 0, _count); // no family or chunk kept alive between scrapes
        Array.Clear(_slots);
        _count = 0;
    }

    private void StartHelpers()
    {
        _helperThreads = new Thread[Helpers];
        for (int i = 0; i < Helpers; i++)
        {
            // Background threads: a process may exit without disposing the writer. Small stacks:
            // a helper's deepest call is a series' lines.
            _helperThreads[i] = new Thread(HelperLoop, maxStackSize: 256 * 1024) { IsBackground = true, Name = $"aishell.scrape-{i + 1}" };
            _helperThreads[i].Start();
        }
    }

    private void HelperLoop()
    {
        while (true)
        {
            _wake.Wait();
            if (_disposed)
            {
                return;
            }

            Help();
        }
    }

    /// <summary>Lets the helper threads end (a scrape in progress finishes first). Later scrapes run on the caller alone.</summary>
    public void Dispose()
    {
        _disposed = true;
        _wake.Release(Helpers + 1); // every helper wakes, sees it, and returns
    }

    /// <summary>A helper, once woken: joins the open scrape, writes pieces while there are any to claim, leaves.</summary>
    private void Help()
    {
        Interlocked.Decrement(ref _queued);
        Writer self;
        lock (_gate)
        {
            if (!_open || _joined == Helpers)
            {
                return;
            }

            self = _writers[++_joined];
            _active++;
        }

        try
        {
            while (true)
            {
                if (TryWriteNext(self))
                {
                    Interlocked.Increment(ref _helperPieces);
                    continue;
                }

                if (Volatile.Read(ref _claimed) >= _count)
                {
                    break; // all claimed, or closed
                }

                // Its buffers are all written and not yet sent: the caller is sending (or its client is slow).
                _bufferFreed.Reset();
                Interlocked.Exchange(ref self.Waiting, 1);
                if (self.Claims - Volatile.Read(ref self.Sent) >= BuffersPerWriter && Volatile.Read(ref _claimed) != Closed)
                {
                    _bufferFreed.Wait(5, CancellationToken.None); // bounded: another helper's Reset may swallow a Set
                }

                Volatile.Write(ref self.Waiting, 0);
            }
        }
        finally
        {
            lock (_gate)
            {
                if (--_active == 0)
                {
                    Monitor.PulseAll(_gate);
                }
            }
        }
    }

    /// <summary>
    /// Claims the next piece if <paramref name="writer"/> has a buffer free, and writes it there;
    /// false when it has none free or there is no piece left to claim.
    /// </summary>
    private bool TryWriteNext(Writer writer)
    {
        if (writer.Claims - Volatile.Read(ref writer.Sent) >= BuffersPerWriter)
        {
            return false;
        }

        while (true)
        {
            int next = Volatile.Read(ref _claimed);
            if (next >= _count)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _claimed, next + 1, next) == next)
            {
                Write(next, writer);
                return true;
            }
        }
    }

    /// <summary>Writes piece <paramref name="index"/> into the writer's next buffer and marks it done. A helper's failure is kept for the caller to rethrow.</summary>
    private void Write(int index, Writer writer)
    {
        bool helper = writer != _writers[0];
        ScrapeBuffer buffer = writer.Buffers[writer.Claims++ % BuffersPerWriter];
        ref Slot slot = ref _slots[index % _slots.Length];
        slot.Buffer = buffer;
        slot.Owner = writer;
        try
        {
            ref readonly Piece piece = ref _pieces[index];
            buffer.Reset();
            (MetricFamily family, FamilyText text, SeriesChunk chunk) = (piece.Family, piece.Text, piece.Chunk);
            if (piece.Header)
            {
                buffer.Write(text.Header(_openMetrics));
            }

            long now = Series.NoTimestamp;
            for (int s = piece.From; s < piece.To; s++)
            {
                if (chunk.IsWritten(s))
                {
                    ExpositionWriter.WriteSeries(buffer, family, text, chunk, s, _openMetrics, ref now);
                }
            }
        }
        catch (Exception e) when (helper)
        {
            Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(e), null);
        }
        finally
        {
            Interlocked.Exchange(ref slot.Done, index + 1); // a full fence before reading _callerWaiting
            if (helper && Volatile.Read(ref _callerWaiting) != 0)
            {
                _pieceDone.Set();
            }
        }
    }

    /// <summary>
    /// Appends the family's pieces: from its first written series, runs of series that write
    /// about <see cref="PieceBytes"/> (estimated from that series' label text), never
    /// across a chunk. The first carries the family's header. A family with no written series has none.
    /// </summary>
    private void Cut(MetricFamily family, FamilyText text)
    {
        if (family.Hidden)
        {
            return;
        }

        (SeriesChunk[] chunks, int count) = family.SeriesView();
        int perPiece = 0;
        bool header = true;
        foreach (SeriesChunk chunk in chunks)
        {
            int end = chunk.SlotsIn(count);
            int from = 0;
            if (perPiece == 0)
            {
                while (from < end && !chunk.IsWritten(from))
                {
                    from++;
                }

                if (from == end)
                {
                    if (end < chunk.Capacity)
                    {
                        return; // nothing written in the view
                    }

                    continue;
                }

                perPiece = SeriesPerPiece(family, text, chunk.Labels[from].Length);
            }

            for (; from < end; from += perPiece)
            {
                if (_count == _pieces.Length)
                {
                    Array.Resize(ref _pieces, _pieces.Length * 2);
                }

                _pieces[_count++] = new Piece(family, text, chunk, from, Math.Min(end, from + perPiece), header);
                header = false;
            }

            if (end < chunk.Capacity)
            {
                return; // the view's count ends in this chunk
            }
        }
    }

    private int SeriesPerPiece(MetricFamily family, FamilyText text, int labelLength)
    {
        int lines = family.Type is MetricType.Histogram or MetricType.Summary ? text.TailCount + 2 : 1;
        int lineBytes = text.SampleName.Length + labelLength + 24; // a tail and a value, roughly
        return Math.Max(1, PieceBytes / (lines * lineBytes));
    }

    /// <summary>Series <see cref="From"/> to <see cref="To"/> (slots, end excluded) of one chunk.</summary>
    private readonly record struct Piece(MetricFamily Family, FamilyText Text, SeriesChunk Chunk, int From, int To, bool Header);

    /// <summary>A piece claimed and not yet sent: where it is written, and 1 + its index once done.</summary>
    private struct Slot
    {
        public ScrapeBuffer? Buffer;
        public Writer? Owner;
        public int Done;
    }

    /// <summary>
    /// The caller or a helper: its buffers, used in turn, and how many of its pieces were claimed
    /// (by it alone) and sent (by the caller alone). Two writers' counters do not share a cache
    /// line: a writer's buffers (over a kilobyte of objects) are allocated between it and the next.
    /// </summary>
    private sealed class Writer
    {
        public Writer()
        {
            Buffers = new ScrapeBuffer[BuffersPerWriter];
            for (int i = 0; i < Buffers.Length; i++)
            {
                Buffers[i] = new ScrapeBuffer(initialCapacity: 256); // grown by the first large scrape, not before
            }
        }

        public ScrapeBuffer[] Buffers { get; }

        public int Claims;
        public int Sent;
        public int Waiting; // 1 while it waits for a buffer: the caller wakes it
    }
}
