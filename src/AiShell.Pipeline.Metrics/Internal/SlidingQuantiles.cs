namespace AiShell.Pipeline.Metrics.Internal;

/// <summary>
/// Quantiles over a sliding time window for a summary series: the window is split into
/// <see cref="Slots"/> sub-windows, each a log-linear bucketed count: per power of two from 2^-20 s
/// (about 1 µs) up to 2^22 s, 16 equal-width sub-buckets, so an estimate (a bucket's middle) is
/// within 1/32 (3.1%) of the true value. The bucket of a value is read straight from the bits of the
/// double (exponent and top four mantissa bits): no logarithm on the fold path. Observations go to the current slot;
/// a quantile merges the slots younger than the window. One writer (the shard's aggregator); a
/// scrape reads while it writes and may see a slot mid-rotation, which moves an estimate by at
/// most that slot's share.
/// </summary>
internal sealed class SlidingQuantiles
{
    public const int Slots = 6;
    private const int MantissaBits = 4;
    private const int PerOctave = 1 << MantissaBits;
    private const int Octaves = 42;
    private const int Buckets = PerOctave * Octaves;
    private const int MinExponent = -20; // 2^-20 s ≈ 0.95 µs; anything smaller shares bucket 0
    private static readonly double MinValue = Math.ScaleB(1.0, MinExponent);

    private readonly long[][] _counts = new long[Slots][];
    private readonly long[] _starts = new long[Slots];
    private readonly int[] _low = new int[Slots];  // per slot: lowest bucket written (Buckets when none)
    private readonly int[] _high = new int[Slots]; // per slot: highest bucket written (-1 when none)
    private readonly long _slotTicks;
    private readonly long _windowTicks;
    private int _current;

    public SlidingQuantiles(TimeSpan window, TimeProvider time, long now)
    {
        _windowTicks = (long)(window.TotalSeconds * time.TimestampFrequency);
        _slotTicks = _windowTicks / Slots;
        for (int i = 0; i < Slots; i++)
        {
            _counts[i] = new long[Buckets];
            _starts[i] = long.MinValue;
            _low[i] = Buckets;
            _high[i] = -1;
        }

        _starts[0] = now;
    }

    public void Record(double value, long count, long now)
    {
        if (now - Volatile.Read(ref _starts[_current]) >= _slotTicks)
        {
            Rotate(now);
        }

        int slot = _current;
        long[] counts = _counts[slot];
        int index = Index(value);
        Volatile.Write(ref counts[index], counts[index] + count);
        if (index < _low[slot])
        {
            Volatile.Write(ref _low[slot], index);
        }

        if (index > _high[slot])
        {
            Volatile.Write(ref _high[slot], index);
        }
    }

    private void Rotate(long now)
    {
        int next = (_current + 1) % Slots;
        Volatile.Write(ref _starts[next], long.MinValue); // excluded while being reset
        int low = _low[next];
        int high = _high[next];
        if (high >= low)
        {
            Array.Clear(_counts[next], low, high - low + 1); // only the range it used
        }

        Volatile.Write(ref _low[next], Buckets);
        Volatile.Write(ref _high[next], -1);
        Volatile.Write(ref _starts[next], now);
        _current = next;
    }

    /// <summary>Estimated q-quantile of the observations in the window; NaN when there are none.</summary>
    public double Quantile(double q, long now)
    {
        Span<double> result = stackalloc double[1];
        Quantiles([q], result, now);
        return result[0];
    }

    /// <summary>
    /// Several quantiles (increasing) from one pass: the live slots are merged over the range of
    /// buckets they used, so a scrape costs what the observations spread over, not all 672 buckets
    /// times six slots per quantile. NaN for each when the window saw nothing.
    /// </summary>
    public void Quantiles(ReadOnlySpan<double> qs, Span<double> into, long now)
    {
        int low = Buckets;
        int high = -1;
        Span<bool> live = stackalloc bool[Slots];
        for (int s = 0; s < Slots; s++)
        {
            long start = Volatile.Read(ref _starts[s]);
            live[s] = start != long.MinValue && now - start < _windowTicks;
            if (live[s])
            {
                low = Math.Min(low, Volatile.Read(ref _low[s]));
                high = Math.Max(high, Volatile.Read(ref _high[s]));
            }
        }

        if (high < low)
        {
            into[..qs.Length].Fill(double.NaN);
            return;
        }

        Span<long> merged = stackalloc long[high - low + 1];
        merged.Clear();
        long total = 0;
        for (int s = 0; s < Slots; s++)
        {
            if (!live[s])
            {
                continue;
            }

            long[] slot = _counts[s];
            for (int i = low; i <= high; i++)
            {
                long c = Volatile.Read(ref slot[i]);
                merged[i - low] += c;
                total += c;
            }
        }

        if (total == 0)
        {
            into[..qs.Length].Fill(double.NaN);
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

            into[k] = Middle(low + bucket);
        }
    }

    private static int Index(double value)
    {
        // Positive normal doubles order like their bits: (unbiased exponent - MinExponent) octaves
        // plus the top mantissa bits. NaN, zero, negatives and tiny values go to bucket 0.
        if (!(value >= MinValue))
        {
            return 0;
        }

        long bits = BitConverter.DoubleToInt64Bits(value);
        int octave = (int)(bits >> 52) - 1023 - MinExponent;
        int sub = (int)(bits >> (52 - MantissaBits)) & (PerOctave - 1);
        return Math.Min(Buckets - 1, (octave * PerOctave) + sub);
    }

    /// <summary>The middle of bucket <paramref name="index"/> (its lower bound plus half its width).</summary>
    internal static double Middle(int index)
    {
        int octave = index / PerOctave;
        int sub = index % PerOctave;
        return Math.ScaleB(1.0 + ((sub + 0.5) / PerOctave), octave + MinExponent);
    }
}
