namespace AiShell.Pipeline.Metrics.Internal;

/// <summary>
/// Quantiles over a sliding time window for a summary series: the window is split into
/// <see cref="Slots"/> sub-windows, each a log-bucketed count (8 buckets per power of two from
/// 1 µs, so an estimate is within ~4.5% of the true value). Observations go to the current slot;
/// a quantile merges the slots younger than the window. One writer (the shard's aggregator); a
/// scrape reads while it writes and may see a slot mid-rotation, which moves an estimate by at
/// most that slot's share.
/// </summary>
internal sealed class SlidingQuantiles
{
    public const int Slots = 6;
    private const int PerOctave = 8;
    private const int Buckets = PerOctave * 42;
    private const double Min = 1e-6;

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
                return i == 0 ? Min : Min * Math.Pow(2, (i + 0.5) / PerOctave); // geometric middle of the bucket
            }
        }

        return double.NaN;
    }

    private static int Index(double value) =>
        !(value > Min) ? 0 : Math.Min(Buckets - 1, (int)(Math.Log2(value / Min) * PerOctave));
}
