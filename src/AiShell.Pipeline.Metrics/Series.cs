using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AiShell.Pipeline.Metrics;

/// <summary>
/// One labelled series of a family: a handle on its slot in the family's column storage
/// (<see cref="Internal.SeriesChunk"/>), where its value, written flag and bucket counts live beside
/// those of the family's other series, and its label text, encoded to UTF-8 once when the series is
/// created.
/// <para>
/// How a series is written is its family's declared mode (<see cref="MetricDescriptor.SharedWrites"/>):
/// one writer, the aggregator that owns the series' shard, with plain stores; or, for self-metrics
/// touched from many threads (HTTP handlers, supervisors), atomic increments and observations.
/// Readers (the serializer) never lock: every cell is read with one 64-bit load, the written flag
/// is published after the value it guards, and a histogram's <c>_count</c> is derived from its
/// buckets, so <c>+Inf == _count</c> holds in every scrape.
/// </para>
/// </summary>
public sealed class Series
{
    private readonly long[] _cells; // the chunk's cells; this series' start at _at (see SeriesChunk)
    private readonly int _at;
    private readonly int _finite; // histograms: finite buckets (the +Inf count follows them)
    private readonly double[]? _bounds; // the family's finite bucket bounds, increasing
    private readonly Internal.SlidingQuantiles? _window; // summaries
    private readonly bool _shared; // the family's MetricDescriptor.SharedWrites

    internal Series(MetricFamily family, int ordinal, string[] labelValues, Internal.SeriesChunk chunk, int slot)
    {
        Family = family;
        Ordinal = ordinal;
        LabelValues = labelValues;
        Chunk = chunk;
        Slot = slot;
        _cells = chunk.Cells;
        _at = slot * chunk.Stride;
        _shared = family.Descriptor.SharedWrites;
        if (family.Type == MetricType.Histogram)
        {
            _bounds = family.Buckets;
            _finite = family.Buckets.Length;
        }
        else if (family.Type == MetricType.Summary)
        {
            _window = new Internal.SlidingQuantiles(family.Descriptor.Window, family.Time, family.Time.GetTimestamp());
        }
    }

    public MetricFamily Family { get; }

    /// <summary>Registry-wide dense number; <c>Ordinal % shards</c> picks the owning aggregator.</summary>
    public int Ordinal { get; }

    public string[] LabelValues { get; }

    internal Internal.SeriesChunk Chunk { get; }

    internal int Slot { get; }

    /// <summary>False until the first write: such a series is left out of the exposition.</summary>
    public bool HasValue => Volatile.Read(ref Cell(Internal.SeriesChunk.WrittenCell)) != 0;

    /// <summary>Counter or gauge value.</summary>
    public double Value => Volatile.Read(ref ValueCell);

    /// <summary>Histogram or summary sum of observations.</summary>
    public double Sum => Volatile.Read(ref ValueCell);

    private ref double ValueCell => ref ValueOf(ref Cell(0));

    /// <summary>
    /// Publishes the writes before it (release): a reader that sees the flag sees the value.
    /// Writers address every cell from <paramref name="cells"/>, this series' first, computed once:
    /// after a volatile write the compiler reloads the array and the offset for the next cell.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MarkWritten(ref long cells) => Volatile.Write(ref Unsafe.Add(ref cells, Internal.SeriesChunk.WrittenCell), 1);

    /// <summary>The value (or sum) cell, given this series' first cell.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref double ValueOf(ref long cells) => ref Unsafe.As<long, double>(ref Unsafe.Add(ref cells, Internal.SeriesChunk.ValueCell));

    /// <summary>
    /// This series' cell <paramref name="index"/>, without a bounds check on the record path: the
    /// constructor placed <c>_at</c> at a slot of the chunk, and every index is below the stride
    /// (a bucket index is at most the finite bucket count).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref long Cell(int index)
    {
        Debug.Assert((uint)(_at + index) < (uint)_cells.Length);
        return ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_cells), _at + index);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Set(double value)
    {
        ref long cells = ref Cell(0);
        Volatile.Write(ref ValueOf(ref cells), value);
        MarkWritten(ref cells);
    }

    /// <summary>
    /// Increment, atomic when the family's writes are shared. One that would make the value
    /// infinite (1e308 sent twice) is not applied: a series that reached +Inf could never come back.
    /// </summary>
    public void Add(double delta)
    {
        if (_shared)
        {
            AddShared(delta);
        }
        else
        {
            AddOwned(delta);
        }
    }

    /// <summary>
    /// The aggregator's increment, plain stores (the fold's <c>Add</c>): the mode is settled when
    /// the sample is made (<see cref="Flow.Sample.AddOp"/>), so the fold pays no branch for it (one
    /// here cost the pipeline 4-5% of its events per second).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void AddOwned(double delta)
    {
        ref long cells = ref Cell(0);
        ref double value = ref ValueOf(ref cells);
        double next = value + delta;
        if (double.IsFinite(next))
        {
            Volatile.Write(ref value, next);
        }

        MarkWritten(ref cells);
    }

    /// <summary>An increment from any of the threads that write a shared family.</summary>
    internal void AddShared(double delta)
    {
        ref long cells = ref Cell(0);
        AtomicAdd(ref ValueOf(ref cells), delta);
        MarkWritten(ref cells);
    }

    /// <summary>The family's <see cref="MetricDescriptor.SharedWrites"/>.</summary>
    internal bool SharedWrites => _shared;

    /// <summary>An observation into a histogram or summary (atomic for a family with shared writes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Observe(double value)
    {
        if (_shared)
        {
            ObserveShared(value);
            return;
        }

        long now = NoTimestamp;
        Observe(value, ref now);
    }

    /// <summary>No clock read yet: the value <see cref="Observe(double, ref long)"/> starts from.</summary>
    internal const long NoTimestamp = long.MinValue;

    /// <summary>
    /// Single-writer observation that shares one clock read across a batch: a summary reads the
    /// clock into <paramref name="now"/> when it is still <see cref="NoTimestamp"/> (a clock read per
    /// observation was a tenth of the whole pipeline's time).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Observe(double value, ref long now)
    {
        if (_window is not null)
        {
            if (now == NoTimestamp)
            {
                now = Family.Time.GetTimestamp();
            }

            ObserveSummary(value, now);
            return;
        }

        ObserveInto(BucketIndex(value), 1, value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)] // into the fold's switch: out of line it cost 7 instructions per event
    private void ObserveSummary(double value, long now)
    {
        _window!.Record(value, now);
        ObserveInto(0, 1, value);
    }

    /// <summary>
    /// Single-writer: <paramref name="count"/> observations totalling <paramref name="sum"/> counted in
    /// count cell <paramref name="bucket"/>, added to the sum, the series marked written.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ObserveInto(int bucket, long count, double sum)
    {
        Debug.Assert((uint)(_at + Internal.SeriesChunk.FirstCountCell + bucket) < (uint)_cells.Length);
        ref long cells = ref Cell(0);
        ref long counted = ref Unsafe.Add(ref cells, Internal.SeriesChunk.FirstCountCell + bucket);
        Volatile.Write(ref counted, counted + count);
        ref double total = ref ValueOf(ref cells);
        Volatile.Write(ref total, total + sum);
        MarkWritten(ref cells);
    }

    /// <summary>A histogram observation from any of the threads that write a shared family.</summary>
    private void ObserveShared(double value)
    {
        ref long cells = ref Cell(0);
        Interlocked.Increment(ref CountCell(BucketIndex(value)));
        AtomicAdd(ref ValueOf(ref cells), value);
        MarkWritten(ref cells);
    }

    /// <summary>
    /// Where a producer's tally counts <paramref name="value"/> for this histogram or summary: the
    /// histogram bucket, or the summary window's bucket. Below <see cref="TallyBuckets"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int TallyBucket(double value) => _window is null ? BucketIndex(value) : Internal.SlidingQuantiles.Index(value);

    /// <summary>How many buckets <see cref="TallyBucket"/> picks from.</summary>
    internal int TallyBuckets => _window is null ? _finite + 1 : Internal.SlidingQuantiles.Buckets;

    /// <summary>
    /// Single-writer: <paramref name="count"/> observations of a producer's tally in
    /// <paramref name="bucket"/> (from <see cref="TallyBucket"/>), <paramref name="sum"/> added to the
    /// sum; a summary shares the batch's clock read as <see cref="Observe(double, ref long)"/> does.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void ObserveBucket(int bucket, long count, double sum, ref long now)
    {
        if (_window is not null)
        {
            if (now == NoTimestamp)
            {
                now = Family.Time.GetTimestamp();
            }

            _window.RecordAt(bucket, count, now);
            bucket = 0; // a summary's one count cell
        }

        Debug.Assert((uint)bucket <= (uint)_finite);
        ObserveInto(bucket, count, sum);
    }

    /// <summary>A histogram's count of bucket <paramref name="index"/> (+Inf at <c>Buckets.Length</c>), a summary's count at 0.</summary>
    private ref long CountCell(int index) => ref Cell(Internal.SeriesChunk.FirstCountCell + index);

    /// <summary>Summary: the q-quantile over the sliding window (NaN when it saw nothing).</summary>
    public double Quantile(double q) => _window!.Quantile(q, Family.Time.GetTimestamp());

    /// <summary>Summary: the quantiles <paramref name="qs"/> (increasing) from one pass over the window.</summary>
    internal void Quantiles(ReadOnlySpan<double> qs, Span<double> into) => _window!.Quantiles(qs, into, Family.Time.GetTimestamp());

    /// <summary>Summary: each quantile's bucket (see <see cref="Internal.SlidingQuantiles.MiddleText"/>), -1 for none.</summary>
    internal void QuantileBuckets(ReadOnlySpan<double> qs, Span<int> into, long now) => _window!.QuantileBuckets(qs, into, now);

    /// <summary>Summary: observations since the series was created.</summary>
    public long SummaryCount => Volatile.Read(ref CountCell(0));

    /// <summary>
    /// Single-writer: <paramref name="count"/> observations totalling <paramref name="sum"/>, all put
    /// in the bucket of their mean (a per-interval mean from cumulative statistics).
    /// </summary>
    public void ObserveMany(long count, double sum) => ObserveInto(BucketIndex(sum / count), count, sum);

    /// <summary>
    /// Hides the series until it is written again: a table that left the top N, a NULL column, a
    /// standby that disconnected. Its state is kept, so a counter that comes back does not reset.
    /// </summary>
    public void Clear() => Volatile.Write(ref Cell(Internal.SeriesChunk.WrittenCell), 0);

    /// <summary>Adds unless the result would be infinite (as <see cref="Add"/>), atomically.</summary>
    private static void AtomicAdd(ref double location, double delta)
    {
        double current = Volatile.Read(ref location);
        while (true)
        {
            double next = current + delta;
            if (!double.IsFinite(next))
            {
                return;
            }

            double seen = Interlocked.CompareExchange(ref location, next, current);
            if (seen.Equals(current))
            {
                return;
            }

            current = seen;
        }
    }

    /// <summary>
    /// Attaches an exemplar to the bucket <paramref name="value"/> falls in. Safe from any thread
    /// (one reference store); shown only in OpenMetrics scrapes.
    /// </summary>
    public void SetExemplar(double value, Exemplar exemplar)
    {
        Internal.SeriesChunk chunk = Chunk;
        Exemplar?[]?[] perSlot = Volatile.Read(ref chunk.Exemplars)
            ?? Interlocked.CompareExchange(ref chunk.Exemplars, new Exemplar?[]?[chunk.Capacity], null)
            ?? chunk.Exemplars!;
        Exemplar?[] slots = Volatile.Read(ref perSlot[Slot])
            ?? Interlocked.CompareExchange(ref perSlot[Slot], new Exemplar?[_finite + 1], null)
            ?? perSlot[Slot]!;
        Volatile.Write(ref slots[BucketIndex(value)], exemplar);
    }

    /// <summary>Per-bucket count (not cumulative); index <c>Buckets.Length</c> is the +Inf overflow.</summary>
    public long BucketCount(int index)
    {
        if (_bounds is null)
        {
            Internal.ThrowHelper.WrongType(Family.Name, "bucket counts");
        }

        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)index, (uint)_finite, nameof(index));
        return Volatile.Read(ref CountCell(index));
    }

    /// <summary>Total observations: the sum of the buckets, so it always equals the +Inf bucket.</summary>
    public long Count
    {
        get
        {
            if (_bounds is null)
            {
                Internal.ThrowHelper.WrongType(Family.Name, "bucket counts");
            }

            long total = 0;
            for (int i = 0; i <= _finite; i++)
            {
                total += Volatile.Read(ref CountCell(i));
            }

            return total;
        }
    }

    /// <summary>The histogram bucket <paramref name="value"/> is counted in (+Inf at <c>Buckets.Length</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int BucketIndex(double value)
    {
        // An early-exit scan: what the shipped binary runs. (Eight-wide compares with a population
        // count measured 22.5 against 22.9 ns per record under the JIT with AVX-512, and Native
        // AOT's default instruction set accelerates neither 512- nor 256-bit vectors, so they went.)
        // NaN is within no bound and lands in +Inf.
        double[] bounds = _bounds!;
        int finite = _finite;
        int index = 0;
        while (index < finite && !(value <= bounds[index]))
        {
            index++;
        }

        return index;
    }
}
