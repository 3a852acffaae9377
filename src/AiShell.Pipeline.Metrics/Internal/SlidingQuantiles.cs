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
        }

        _starts[0] = now;
    }

    public void Record(double value, long count, long now)
    {
        if (now - Volatile.Read(ref _starts[_current]) >= _slotTicks)
        {
            int next = (_current + 1) % Slots;
            Volatile.Write(ref _starts[next], long.MinValue); // excluded while being reset
            Array.Clear(_counts[next]);
            Volatile.Write(ref _starts[next], now);
            _current = next;
        }

        long[] slot = _counts[_current];
        int index = Index(value);
        Volatile.Write(ref slot[index], slot[index] + count);
    }

    /// <summary>Estimated q-quantile of the observations in the window; NaN when there are none.</summary>
    public double Quantile(double q, long now)
    {
        Span<long> merged = stackalloc long[Buckets];
        long total = 0;
        for (int s = 0; s < Slots; s++)
        {
            long start = Volatile.Read(ref _starts[s]);
            if (start == long.MinValue || now - start >= _windowTicks)
            {
                continue;
            }

            long[] slot = _counts[s];
            for (int i = 0; i < Buckets; i++)
            {
                long c = Volatile.Read(ref slot[i]);
                merged[i] += c;
                total += c;
            }
        }

        if (total == 0)
        {
            return double.NaN;
        }

        long rank = Math.Max(1, (long)Math.Ceiling(q * total));
        long seen = 0;
        for (int i = 0; i < Buckets; i++)
        {
            seen += merged[i];
            if (seen >= rank)
            {
                return Middle(i);
            }
        }

        return double.NaN;
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
