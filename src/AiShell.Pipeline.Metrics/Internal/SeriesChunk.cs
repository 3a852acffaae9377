using System.Runtime.CompilerServices;

namespace AiShell.Pipeline.Metrics.Internal;

/// <summary>
/// The state of up to <see cref="Capacity"/> consecutive series of one family, stored column by
/// column so that a scrape reads a few arrays front to back instead of one object graph per series.
/// A scrape of 100,000 series that followed each series' references (object, bucket array, text
/// cache, prefixes) waited on memory for about one cache miss per series; these arrays are read
/// in address order, which the hardware prefetcher streams.
/// <para>
/// Cells: per slot <see cref="Stride"/> 64-bit cells, <c>[0]</c> the value (a counter's or gauge's,
/// a histogram's or summary's sum; the double's bits), <c>[1]</c> written (0 or 1), then a
/// histogram's per-bucket counts (not cumulative; +Inf last) or a summary's count. A slot's cells
/// are written only by its series' writer; readers load each cell once, never locking.
/// </para>
/// </summary>
internal sealed class SeriesChunk
{
    public const int ValueCell = 0;
    public const int WrittenCell = 1;
    public const int FirstCountCell = 2;

    public SeriesChunk(int start, int capacity, int stride, bool sumTexts)
    {
        Start = start;
        Capacity = capacity;
        Stride = stride;
        Cells = new long[capacity * stride];
        Labels = new LabelText[capacity];
        Series = new Series[capacity];
        SumTexts = sumTexts ? new ValueText[capacity] : null;
    }

    /// <summary>The family-wide index of slot 0.</summary>
    public int Start { get; }

    public int Capacity { get; }

    public int Stride { get; }

    public long[] Cells { get; }

    /// <summary>Cell <paramref name="cell"/> (<see cref="ValueCell"/>, <see cref="WrittenCell"/>, counts from <see cref="FirstCountCell"/>) of <paramref name="slot"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref long Cell(int slot, int cell) => ref Cells[(slot * Stride) + cell];

    /// <summary>Whether the series in <paramref name="slot"/> has been recorded into (what a scrape writes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool IsWritten(int slot) => Volatile.Read(ref Cell(slot, WrittenCell)) != 0;

    /// <summary>
    /// Slots of this chunk that hold series in a view of <paramref name="count"/> series (see
    /// <see cref="MetricFamily.SeriesView"/>): the chunk's capacity, fewer in the view's last chunk, none past it.
    /// </summary>
    public int SlotsIn(int count) => Math.Min(Capacity, count - Start);

    /// <summary>Per slot: the series' label text, <c>{name="value",...</c> without the closing brace (empty without labels).</summary>
    public LabelText[] Labels { get; }

    public Series[] Series { get; }

    /// <summary>Histograms and summaries: per slot, the text of the sum while it is unchanged.</summary>
    public ValueText[]? SumTexts { get; }

    /// <summary>Histograms: per slot, per bucket, the latest exemplar; allocated on the first one.</summary>
    public Exemplar?[]?[]? Exemplars;

    /// <summary>Chunk sizes grow by four up to 1024 slots: most families hold a handful of series.</summary>
    public static int NextCapacity(int previous) => previous == 0 ? 4 : Math.Min(previous * 4, 1024);
}
