using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using AiShell.Pipeline.Metrics.Internal;

namespace AiShell.Pipeline.Metrics.Pipeline;

/// <summary>
/// The events of one label tuple of a <see cref="SeriesGroup"/> since its builder's last hand-over,
/// folded on the producer's side (see <see cref="SampleBatchBuilder.RecordEvent"/>): how many, the
/// sum of their values, per histogram the count of each bucket, per summary the count of each
/// window bucket. At hand-over it becomes one sample per counter and one per non-empty bucket,
/// whatever the number of events: a query event's three samples (32 bytes each, written by the
/// producer and read again by an aggregator) became a count, a sum and two bucket increments in
/// memory the producer's core already holds.
/// <para>
/// Only the producer that owns the builder touches a tally (under the builder's own
/// synchronisation); an aggregator sees only the samples it emits.
/// </para>
/// </summary>
internal sealed class EventTally
{
    private Series[] _members = [];
    private int _length;
    private Series[] _counters = [];
    private Observed[] _histograms = [];
    private Observed[] _summaries = [];

    /// <summary>Events since the last <see cref="Emit"/>.</summary>
    public long Events;

    /// <summary>Whether the tally is on its builder's list of tallies to emit.</summary>
    public bool Listed;

    private double _sum;

    /// <summary>Takes over the tally for another tuple; only when it holds no events.</summary>
    public void Reset(ReadOnlySpan<Series> members)
    {
        if (_members.Length < members.Length)
        {
            _members = new Series[members.Length];
        }

        members.CopyTo(_members);
        _length = members.Length;
        int counters = 0, histograms = 0, summaries = 0;
        foreach (Series series in members)
        {
            switch (series.Family.Type)
            {
                case MetricType.Counter:
                    counters++;
                    break;
                case MetricType.Histogram:
                    histograms++;
                    break;
                case MetricType.Summary:
                    summaries++;
                    break;
                default:
                    ThrowHelper.Argument($"An event counts into counters, histograms and summaries; '{series.Family.Name}' is a {series.Family.Type.ToString().ToLowerInvariant()}.");
                    break;
            }
        }

        _counters = new Series[counters];
        _histograms = new Observed[histograms];
        _summaries = new Observed[summaries];
        counters = histograms = summaries = 0;
        foreach (Series series in members)
        {
            switch (series.Family.Type)
            {
                case MetricType.Counter:
                    _counters[counters++] = series;
                    break;
                case MetricType.Histogram:
                    _histograms[histograms++] = new Observed(series, series.Family.Buckets.Length + 1);
                    break;
                default:
                    _summaries[summaries++] = new Observed(series, SlidingQuantiles.BucketCount);
                    break;
            }
        }
    }

    /// <summary>Whether this tally is for exactly these series (each family's, in the group's order).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Holds(ReadOnlySpan<Series> members)
    {
        if (members.Length != _length)
        {
            return false;
        }

        Series[] own = _members;
        for (int i = 0; i < members.Length; i++)
        {
            if (!ReferenceEquals(own[i], members[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Counts one event observing <paramref name="value"/>; returns how many samples it added to
    /// what <see cref="Emit"/> will write (a counter's first event, a bucket's first observation).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Add(double value)
    {
        int added = Events++ == 0 ? _counters.Length : 0;
        _sum += value;
        foreach (Observed histogram in _histograms)
        {
            added += histogram.Count(histogram.Series.BucketIndex(value));
        }

        foreach (Observed summary in _summaries)
        {
            added += summary.Count(SlidingQuantiles.Index(value));
        }

        return added;
    }

    /// <summary>Writes the tally as samples into <paramref name="builder"/> and empties it.</summary>
    public void Emit(SampleBatchBuilder builder)
    {
        double events = Events;
        foreach (Series counter in _counters)
        {
            builder.Emit(new Sample(counter, events, 0, SampleOp.Add));
        }

        foreach (Observed histogram in _histograms)
        {
            histogram.Emit(builder, _sum, SampleOp.ObserveBucket);
        }

        foreach (Observed summary in _summaries)
        {
            summary.Emit(builder, _sum, SampleOp.ObserveQuantileBucket);
        }

        Events = 0;
        _sum = 0;
    }

    /// <summary>A histogram's or summary's counts per bucket, and the range of buckets in use.</summary>
    private sealed class Observed(Series series, int buckets)
    {
        public readonly Series Series = series;
        private readonly long[] _counts = new long[buckets];
        private int _low = int.MaxValue;
        private int _high = -1;

        /// <summary>Counts one observation in <paramref name="bucket"/>: 1 when the bucket was empty (one more sample to emit).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int Count(int bucket)
        {
            ref long count = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_counts), bucket); // every index source stays below the length
            if (count++ != 0)
            {
                return 0;
            }

            _low = Math.Min(_low, bucket);
            _high = Math.Max(_high, bucket);
            return 1;
        }

        /// <summary>One sample per non-empty bucket; the sum rides on the first.</summary>
        public void Emit(SampleBatchBuilder builder, double sum, SampleOp op)
        {
            long[] counts = _counts;
            for (int bucket = _low; bucket <= _high; bucket++)
            {
                long count = counts[bucket];
                if (count != 0)
                {
                    builder.Emit(new Sample(Series, sum, count, op, bucket));
                    counts[bucket] = 0;
                    sum = 0;
                }
            }

            _low = int.MaxValue;
            _high = -1;
        }
    }
}
