using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using AiShell.Pipeline.Metrics.Internal;

namespace AiShell.Pipeline.Metrics.Exposition;

/// <summary>
/// The sample lines of one series, read from its slot in the family's columns. Each writer sizes
/// the buffer once for all of the series' lines (plus <see cref="LineWriter.Slack"/>), then writes
/// them through raw references: a line is the name, the series' label text and a tail copied in
/// whole vectors, then the value.
/// </summary>
internal static class SampleLines
{
    /// <summary>A counter's or gauge's line.</summary>
    public static void WriteScalar(ScrapeBuffer buffer, FamilyText text, SeriesChunk chunk, int slot)
    {
        ref readonly LabelText labels = ref chunk.Labels[slot];
        double value = Volatile.Read(ref Cell<double>(chunk, slot, SeriesChunk.ValueCell));
        FamilyText.Piece name = text.SampleName;
        Span<byte> span = buffer.GetSpan(ScalarBound(name, labels) + LineWriter.Slack);
        int at = Head(ref MemoryMarshal.GetReference(span), name, labels, text.Close(labels.Length));
        at += NumberFormatter.Write(span[at..], value);
        span[at++] = (byte)'\n';
        buffer.Advance(at);
    }

    /// <summary>A histogram's bucket lines (cumulative, +Inf last; with exemplars in OpenMetrics), then _sum and _count.</summary>
    public static void WriteHistogram(ScrapeBuffer buffer, FamilyText text, SeriesChunk chunk, int slot, bool openMetrics)
    {
        ref readonly LabelText labels = ref chunk.Labels[slot];
        Exemplar?[]? exemplars = openMetrics ? Volatile.Read(ref chunk.Exemplars)?[slot] : null;
        long count = exemplars is null ? WriteBuckets(buffer, text, chunk, slot, labels) : WriteBuckets(buffer, text, chunk, slot, labels, exemplars);
        WriteSumAndCount(buffer, text, chunk, slot, labels, count);
    }

    /// <summary>The bucket lines, all sized at once; returns the +Inf count.</summary>
    private static long WriteBuckets(ScrapeBuffer buffer, FamilyText text, SeriesChunk chunk, int slot, in LabelText labels)
    {
        FamilyText.Piece name = text.SampleName;
        int buckets = text.TailCount;
        int line = name.Length + labels.Length + text.TailStride + LineWriter.MaxIntegerLength + 1;
        Span<byte> span = buffer.GetSpan((buckets * line) + LineWriter.Block + LineWriter.Slack);
        ref byte destination = ref MemoryMarshal.GetReference(span);
        ref long counts = ref Cell<long>(chunk, slot, SeriesChunk.FirstCountCell);
        int stride = text.TailStride;
        int first = text.TailBase(labels.Length);
        ref byte tails = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(text.Tails), first * stride);
        ref int tailLengths = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(text.TailLengths), first);
        // Every line starts with the same name and label text (the head): written once, then copied
        // from the first line, which is in cache: one copy per line instead of two, and one fixed
        // block of moves when the head fits in one.
        int head = LineWriter.Copy(ref destination, name.Bytes, 0, name.Length);
        head += LineWriter.Copy(ref Unsafe.Add(ref destination, head), labels.Array, labels.Offset, labels.Length);
        bool block = head <= LineWriter.Block;
        int at = 0;
        long cumulative = 0;
        for (int i = 0; i < buckets; i++)
        {
            cumulative += Volatile.Read(ref Unsafe.Add(ref counts, i));
            ref byte d = ref Unsafe.Add(ref destination, at);
            if (i > 0)
            {
                if (block)
                {
                    LineWriter.CopyBlock(ref d, ref destination, head);
                }
                else
                {
                    LineWriter.Copy(ref d, ref destination, head);
                }
            }

            int w = head + LineWriter.Copy(ref Unsafe.Add(ref d, head), ref Unsafe.Add(ref tails, i * stride), Unsafe.Add(ref tailLengths, i));
            w += LineWriter.WriteInteger(ref Unsafe.Add(ref d, w), cumulative);
            Unsafe.Add(ref d, w) = (byte)'\n';
            at += w + 1;
        }

        buffer.Advance(at);
        return cumulative;
    }

    /// <summary>The bucket lines of a series with exemplars (OpenMetrics): each line sized with the exemplar it read.</summary>
    private static long WriteBuckets(ScrapeBuffer buffer, FamilyText text, SeriesChunk chunk, int slot, in LabelText labels, Exemplar?[] exemplars)
    {
        FamilyText.Piece name = text.SampleName;
        int line = name.Length + labels.Length + text.TailStride + LineWriter.MaxIntegerLength + 1;
        ref long counts = ref Cell<long>(chunk, slot, SeriesChunk.FirstCountCell);
        int tail = text.TailBase(labels.Length);
        long cumulative = 0;
        for (int i = 0; i < text.TailCount; i++)
        {
            cumulative += Volatile.Read(ref Unsafe.Add(ref counts, i));
            ReadOnlySpan<byte> exemplar = Volatile.Read(ref exemplars[i]) is { } e ? e.Encoded : default;
            Span<byte> span = buffer.GetSpan(line + exemplar.Length + LineWriter.Slack);
            ref byte d = ref MemoryMarshal.GetReference(span);
            int w = Head(ref d, name, labels, text.Tails, (tail + i) * text.TailStride, text.TailLengths[tail + i]);
            w += LineWriter.WriteInteger(ref Unsafe.Add(ref d, w), cumulative);
            exemplar.CopyTo(span[w..]);
            w += exemplar.Length;
            span[w] = (byte)'\n';
            buffer.Advance(w + 1);
        }

        return cumulative;
    }

    /// <summary>A summary's quantile lines (the middle of each quantile's bucket, from a table), then _sum and _count.</summary>
    public static void WriteSummary(ScrapeBuffer buffer, FamilyText text, double[] quantiles, SeriesChunk chunk, int slot, long now)
    {
        Span<int> buckets = stackalloc int[16];
        buckets = quantiles.Length <= buckets.Length ? buckets[..quantiles.Length] : new int[quantiles.Length];
        chunk.Series[slot].QuantileBuckets(quantiles, buckets, now);

        ref readonly LabelText labels = ref chunk.Labels[slot];
        FamilyText.Piece name = text.SampleName;
        int line = name.Length + labels.Length + text.TailStride + NumberFormatter.MaxLength + 1;
        Span<byte> span = buffer.GetSpan((quantiles.Length * line) + LineWriter.Slack);
        ref byte destination = ref MemoryMarshal.GetReference(span);
        int tail = text.TailBase(labels.Length);
        int at = 0;
        for (int i = 0; i < quantiles.Length; i++)
        {
            ref byte d = ref Unsafe.Add(ref destination, at);
            int w = Head(ref d, name, labels, text.Tails, (tail + i) * text.TailStride, text.TailLengths[tail + i]);
            ReadOnlySpan<byte> value = buckets[i] < 0 ? "NaN"u8 : SlidingQuantiles.MiddleText[buckets[i]];
            value.CopyTo(span[(at + w)..]);
            w += value.Length;
            Unsafe.Add(ref d, w) = (byte)'\n';
            at += w + 1;
        }

        buffer.Advance(at);
        WriteSumAndCount(buffer, text, chunk, slot, labels, Volatile.Read(ref Cell<long>(chunk, slot, SeriesChunk.FirstCountCell)));
    }

    /// <summary>A histogram's or summary's _sum (its text cached while unchanged) and _count lines.</summary>
    private static void WriteSumAndCount(ScrapeBuffer buffer, FamilyText text, SeriesChunk chunk, int slot, in LabelText labels, long count)
    {
        double sum = Volatile.Read(ref Cell<double>(chunk, slot, SeriesChunk.ValueCell));
        FamilyText.Piece close = text.Close(labels.Length);
        Span<byte> span = buffer.GetSpan(ScalarBound(text.SumName, labels) + ScalarBound(text.CountName, labels) + LineWriter.Slack);
        ref byte destination = ref MemoryMarshal.GetReference(span);
        int at = Head(ref destination, text.SumName, labels, close);
        at += NumberFormatter.Write(span[at..], sum, ref chunk.SumTexts![slot]);
        span[at++] = (byte)'\n';
        at += Head(ref Unsafe.Add(ref destination, at), text.CountName, labels, close);
        at += LineWriter.WriteInteger(ref Unsafe.Add(ref destination, at), count);
        span[at++] = (byte)'\n';
        buffer.Advance(at);
    }

    /// <summary>Name, label text and a closing tail (<c>} </c>, a bucket's <c>,le="0.5"} </c>); returns the bytes written.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Head(ref byte destination, FamilyText.Piece name, in LabelText labels, byte[] tail, int tailOffset, int tailLength)
    {
        int at = LineWriter.Copy(ref destination, name.Bytes, 0, name.Length);
        at += LineWriter.Copy(ref Unsafe.Add(ref destination, at), labels.Array, labels.Offset, labels.Length);
        return at + LineWriter.Copy(ref Unsafe.Add(ref destination, at), tail, tailOffset, tailLength);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Head(ref byte destination, FamilyText.Piece name, in LabelText labels, FamilyText.Piece close) =>
        Head(ref destination, name, labels, close.Bytes, 0, close.Length);

    /// <summary>Most bytes a line of <paramref name="name"/> with a plain value takes (the close is at most two bytes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ScalarBound(FamilyText.Piece name, in LabelText labels) => name.Length + labels.Length + 2 + NumberFormatter.MaxLength + 1;

    /// <summary>Cell <paramref name="cell"/> of <paramref name="slot"/>, as a <typeparamref name="T"/> (long or double).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref T Cell<T>(SeriesChunk chunk, int slot, int cell)
        where T : unmanaged =>
        ref Unsafe.As<long, T>(ref chunk.Cell(slot, cell));
}
