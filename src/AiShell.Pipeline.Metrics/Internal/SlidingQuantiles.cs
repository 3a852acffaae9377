using System.Runtime.CompilerServices;

namespace AiShell.Pipeline.Metrics.Internal;

/// <summary>
/// Quantiles over a sliding time window for a summary series: the window is split into
/// <see cref="Slots"/> sub-windows, each a log-linear bucketed count: per power of two from 2^-20 s
/// (0.95 µs) up to 2^22 s (48.5 days), 16 equal-width sub-buckets, so an estimate (a bucket's
/// middle) is within 1/32 (3.2%) of the true value. Outside that range two edge buckets say so
/// honestly: a quantile below it reads 0 (an observation of 0 s reads exactly 0), one at or above
/// it reads 2^22 (4194304, "at least"). The bucket of a value is read straight from the bits of
/// the double (exponent and top four mantissa bits): no logarithm on the fold path. Observations
/// go to the current slot; a quantile merges the slots younger than the window. One writer (the
/// shard's aggregator); a scrape reads while it writes and may see a slot mid-rotation, which
/// moves an estimate by at most that slot's share.
/// </summary>
internal sealed class SlidingQuantiles
{
    public const int Slots = 6;
    private const int MantissaBits = 4;
    private const int PerOctave = 1 << MantissaBits;
    private const int Octaves = 42;
    internal const int Buckets = (PerOctave * Octaves) + 2; // what Index returns is below this: the octaves and the two edges
    private const int Overflow = Buckets - 1;
    private const int MinExponent = -20; // 2^-20 s ≈ 0.95 µs; anything smaller is in bucket 0, which reads 0
    private static readonly double MinValue = Math.ScaleB(1.0, MinExponent);
    private static readonly double MaxValue = Math.ScaleB(1.0, MinExponent + Octaves); // 2^22 s; from here on, the overflow bucket

    // Per slot, counts for the range of buckets it has seen, grown an octave at a time: a series
    // whose durations span a few octaves holds a few hundred bytes, not 6 × 672 counters (32 KiB).
    private readonly Range?[] _ranges = new Range?[Slots];
    private readonly long[] _starts = new long[Slots];
    private readonly long _slotTicks;
    private readonly long _windowTicks;
    private int _current;
    private long _version; // bumped by the writer after every change; the scrape-side cache keys on it
    // The scrape-side cache, shared by concurrent scrapes: one that finds it being rewritten
    // computes for itself.
    private SequenceLock _cacheLock;
    private long _cachedVersion = -1;
    private int _cachedLive;
    private int[] _cachedBuckets = [];
    private double[] _cachedQs = [];

    public SlidingQuantiles(TimeSpan window, TimeProvider time, long now)
    {
        _windowTicks = (long)(window.TotalSeconds * time.TimestampFrequency);
        _slotTicks = _windowTicks / Slots;
        Array.Fill(_starts, long.MinValue);
        _starts[0] = now;
    }

    public void Record(double value, long now) => RecordAt(Index(value), 1, now);

    /// <summary>
    /// <paramref name="count"/> observations in bucket <paramref name="index"/> (from <see cref="Index"/>):
    /// what a producer's tally of many observations hands over (see <see cref="Pipeline.EventTally"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void RecordAt(int index, long count, long now)
    {
        if (now - Volatile.Read(ref _starts[_current]) >= _slotTicks)
        {
            Rotate(now);
        }

        Range? range = _ranges[_current];
        if (range is null || index < range.Low || index >= range.Low + range.Counts.Length)
        {
            range = Grow(range, index);
        }

        long[] counts = range.Counts;
        int at = index - range.Low;
        Volatile.Write(ref counts[at], counts[at] + count);
        Volatile.Write(ref _version, _version + 1);
    }

    /// <summary>A copy covering the old range and <paramref name="index"/>'s octave, published whole.</summary>
    private Range Grow(Range? old, int index)
    {
        int low = index / PerOctave * PerOctave;
        int high = Math.Min(low + PerOctave, Buckets); // exclusive
        if (old is not null)
        {
            low = Math.Min(low, old.Low);
            high = Math.Max(high, old.Low + old.Counts.Length);
        }

        var grown = new Range(low, new long[high - low]);
        if (old is not null)
        {
            Array.Copy(old.Counts, 0, grown.Counts, old.Low - low, old.Counts.Length);
        }

        Volatile.Write(ref _ranges[_current], grown);
        return grown;
    }

    private void Rotate(long now)
    {
        int next = (_current + 1) % Slots;
        Volatile.Write(ref _starts[next], long.MinValue); // excluded while being reset
        if (_ranges[next] is { } reused)
        {
            Array.Clear(reused.Counts); // kept: the next minute likely spans the same octaves
        }

        Volatile.Write(ref _starts[next], now);
        _current = next;
        Volatile.Write(ref _version, _version + 1);
    }

    /// <summary>Estimated q-quantile of the observations in the window; NaN when there are none.</summary>
    public double Quantile(double q, long now)
    {
        Span<int> bucket = stackalloc int[1];
        QuantileBuckets([q], bucket, now);
        return bucket[0] < 0 ? double.NaN : Middle(bucket[0]);
    }

    /// <summary>Several quantiles (increasing) from one pass; NaN for each when the window saw nothing.</summary>
    public void Quantiles(ReadOnlySpan<double> qs, Span<double> into, long now)
    {
        Span<int> buckets = stackalloc int[qs.Length];
        QuantileBuckets(qs, buckets, now);
        for (int k = 0; k < qs.Length; k++)
        {
            into[k] = buckets[k] < 0 ? double.NaN : Middle(buckets[k]);
        }
    }

    /// <summary>
    /// The UTF-8 text of <see cref="Middle"/> for every bucket, formatted once: a quantile line copies
    /// its value instead of formatting a double (the shortest round-trip formatting of these binary
    /// fractions cost more than computing the quantile).
    /// </summary>
    internal static readonly byte[][] MiddleText = BuildMiddleText();

    private static byte[][] BuildMiddleText()
    {
        var text = new byte[Buckets][];
        for (int i = 0; i < Buckets; i++)
        {
            text[i] = System.Text.Encoding.UTF8.GetBytes(Middle(i).ToString("R", System.Globalization.CultureInfo.InvariantCulture));
        }

        return text;
    }

    /// <summary>
    /// The bucket of each quantile (increasing), from one pass: the live slots are merged over the
    /// range of buckets they hold, so a scrape costs what the observations spread over. -1 for each
    /// when the window saw nothing.
    /// </summary>
    public void QuantileBuckets(ReadOnlySpan<double> qs, Span<int> into, long now)
    {
        // Unchanged since the last scrape (no observation, no rotation, the same slots in the
        // window): the answer is too. Most series of a large registry are idle between scrapes.
        long version = Volatile.Read(ref _version);
        int liveMask = LiveMask(now);
        if (_cacheLock.TryBeginRead(out int token) && _cachedVersion == version && _cachedLive == liveMask)
        {
            int[] cached = _cachedBuckets;
            if (cached.Length == qs.Length && qs.SequenceEqual(_cachedQs))
            {
                cached.CopyTo(into);
                if (_cacheLock.EndRead(token))
                {
                    return;
                }
            }
        }

        Compute(qs, into, liveMask);
        if (!_cacheLock.TryEnterWrite(out token))
        {
            return; // another scrape is filling the cache
        }

        if (!qs.SequenceEqual(_cachedQs))
        {
            // Once per series for the scrape (the family's quantiles are fixed); ad hoc Quantile
            // calls with other values re-key it.
            _cachedQs = qs.ToArray();
            _cachedBuckets = new int[qs.Length];
        }

        into[..qs.Length].CopyTo(_cachedBuckets);
        _cachedVersion = version;
        _cachedLive = liveMask;
        _cacheLock.ExitWrite(token);
    }

    private int LiveMask(long now)
    {
        int mask = 0;
        for (int s = 0; s < Slots; s++)
        {
            long start = Volatile.Read(ref _starts[s]);
            if (start != long.MinValue && now - start < _windowTicks)
            {
                mask |= 1 << s;
            }
        }

        return mask;
    }

    /// <summary>Merges the slots in <paramref name="liveMask"/> and finds each quantile's bucket.</summary>
    private void Compute(ReadOnlySpan<double> qs, Span<int> into, int liveMask)
    {
        int low = Buckets;
        int high = 0; // exclusive
        LiveRanges ranges = default; // the ranges read once, so both passes see the same arrays
        int liveCount = 0;
        for (int s = 0; s < Slots; s++)
        {
            if ((liveMask & (1 << s)) == 0 || Volatile.Read(ref _ranges[s]) is not { } range)
            {
                continue;
            }

            ranges[liveCount++] = range;
            low = Math.Min(low, range.Low);
            high = Math.Max(high, range.Low + range.Counts.Length);
        }

        if (high <= low)
        {
            into[..qs.Length].Fill(-1);
            return;
        }

        Span<long> merged = stackalloc long[high - low];
        merged.Clear();
        long total = 0;
        for (int r = 0; r < liveCount; r++)
        {
            Range range = ranges[r]!;
            Span<long> target = merged.Slice(range.Low - low, range.Counts.Length);
            long[] counts = range.Counts;
            for (int i = 0; i < counts.Length; i++)
            {
                long c = Volatile.Read(ref counts[i]);
                target[i] += c;
                total += c;
            }
        }

        if (total == 0)
        {
            into[..qs.Length].Fill(-1);
            return;
        }

        long seen = 0;
        int bucket = 0;
        for (int k = 0; k < qs.Length; k++)
        {
            long rank = Math.Max(1, (long)Math.Ceiling(qs[k] * total));
            while (bucket < merged.Length - 1 && seen + merged[bucket] < rank)
            {
                seen += merged[bucket];
                bucket++;
            }

            into[k] = low + bucket;
        }
    }

    [InlineArray(Slots)]
    private struct LiveRanges
    {
        private Range? _first;
    }

    private sealed class Range(int low, long[] counts)
    {
        public readonly int Low = low;
        public readonly long[] Counts = counts;
    }

    /// <summary>The bucket of <paramref name="value"/>: below <see cref="Buckets"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int Index(double value)
    {
        // Positive normal doubles order like their bits: (unbiased exponent - MinExponent) octaves
        // plus the top mantissa bits, after the underflow bucket 0. NaN, zero, negatives and tiny
        // values go to bucket 0; 2^22 and more to the overflow bucket.
        if (!(value >= MinValue))
        {
            return 0;
        }

        if (value >= MaxValue)
        {
            return Overflow;
        }

        long bits = BitConverter.DoubleToInt64Bits(value);
        int octave = (int)(bits >> 52) - 1023 - MinExponent;
        int sub = (int)(bits >> (52 - MantissaBits)) & (PerOctave - 1);
        return 1 + (octave * PerOctave) + sub;
    }

    /// <summary>
    /// What bucket <paramref name="index"/> reports: its middle (lower bound plus half its width);
    /// 0 for the underflow bucket, 2^22 for the overflow bucket.
    /// </summary>
    internal static double Middle(int index)
    {
        if (index == 0)
        {
            return 0;
        }

        if (index == Overflow)
        {
            return MaxValue;
        }

        int octave = (index - 1) / PerOctave;
        int sub = (index - 1) % PerOctave;
        return Math.ScaleB(1.0 + ((sub + 0.5) / PerOctave), octave + MinExponent);
    }
}
