using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using AiShell.Pipeline.Metrics.Internal;

namespace AiShell.Pipeline.Metrics.Flow;

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
    private Series[] _counters = [];
    private Observed[] _observed = []; // the histograms and summaries

    /// <summary>Events since the last <see cref="Emit"/>.</summary>
    public long Events;

    /// <summary>Whether the tally is on its builder's list of tallies to emit.</summary>
    public bool Listed;

    private double _sum;

    /// <summary>
    /// Takes over the tally for another tuple; only when it holds no events. A tuple of the same
    /// families (every tuple of one group) keeps the arrays and the bucket counts: tuples that
    /// share a slot take turns in it, and new ones per turn made such a producer allocate
    /// kilobytes per event.
    /// </summary>
    public void Reset(ReadOnlySpan<Series> members)
    {
        if (!SameFamilies(members))
        {
            int counters = 0;
            foreach (Series series in members)
            {
                CheckMember(series);
                counters += series.Family.Type == MetricType.Counter ? 1 : 0;
            }

            _members = new Series[members.Length];
            _counters = new Series[counters];
            _observed = new Observed[members.Length - counters];
        }

        int counter = 0, observed = 0;
        for (int i = 0; i < members.Length; i++)
        {
            Series series = members[i];
            _members[i] = series;
            if (series.Family.Type == MetricType.Counter)
            {
                _counters[counter++] = series;
            }
            else if (_observed[observed] is { } kept)
            {
                kept.Series = series;
                observed++;
            }
            else
            {
                _observed[observed++] = new Observed(series);
            }
        }
    }

    /// <summary>Whether <paramref name="members"/> are series of this tally's families, in its order (so of the same types and buckets).</summary>
    private bool SameFamilies(ReadOnlySpan<Series> members)
    {
        if (members.Length != _members.Length)
        {
            return false;
        }

        for (int i = 0; i < members.Length; i++)
        {
            if (!ReferenceEquals(members[i].Family, _members[i].Family))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>An event counts into counters and observes into histograms and summaries; anything else is refused.</summary>
    internal static void CheckMember(Series series)
    {
        if (series.Family.Type is not (MetricType.Counter or MetricType.Histogram or MetricType.Summary))
        {
            ThrowHelper.Argument($"An event counts into counters, histograms and summaries; '{series.Family.Name}' is a {series.Family.Type.ToString().ToLowerInvariant()}.");
        }
    }

    /// <summary>Whether this tally is for exactly these series (each family's, in the group's order).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Holds(ReadOnlySpan<Series> members)
    {
        Series[] own = _members;
        if (members.Length != own.Length)
        {
            return false;
        }

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
        foreach (Observed observed in _observed)
        {
            added += observed.Count(observed.Series.TallyBucket(value));
        }

        return added;
    }

    /// <summary>Writes the tally as samples into <paramref name="builder"/> and empties it.</summary>
    public void Emit(SampleBatchBuilder builder)
    {
        double events = Events;
        foreach (Series counter in _counters)
        {
            builder.Emit(counter, events, 0, Sample.AddOp(counter), 0);
        }

        foreach (Observed observed in _observed)
        {
            observed.Emit(builder, _sum);
        }

        Events = 0;
        _sum = 0;
    }

    /// <summary>
    /// A histogram's or summary's counts per bucket, and the range of buckets in use. A histogram's
    /// counts cover all its buckets; a summary's, the octaves of its window buckets it has seen
    /// (16 buckets each, grown as values arrive), as its window's own counts do: all 672 made a
    /// tally 5 KiB, which limited how many tuples a builder could afford to tally at once.
    /// </summary>
    private sealed class Observed(Series series)
    {
        private const int Octave = 16; // window buckets per power of two
        private const int Whole = 64; // bucket counts up to this are allocated at once

        public Series Series = series; // another of the family's series when the tally changes tuples
        private readonly int _buckets = series.TallyBuckets;
        private long[] _counts = [];
        private int _first; // the bucket _counts[0] counts
        private int _low = int.MaxValue;
        private int _high = -1;

        /// <summary>Counts one observation in <paramref name="bucket"/>: 1 when the bucket was empty (one more sample to emit).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int Count(int bucket)
        {
            long[] counts = _counts;
            int at = bucket - _first;
            if ((uint)at >= (uint)counts.Length)
            {
                counts = Grow(bucket);
                at = bucket - _first;
            }

            ref long count = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(counts), at); // within the counts: grown to cover it
            if (count++ != 0)
            {
                return 0;
            }

            _low = Math.Min(_low, bucket);
            _high = Math.Max(_high, bucket);
            return 1;
        }

        /// <summary>Counts covering what they did and <paramref name="bucket"/>'s octave (every bucket, for a short list).</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private long[] Grow(int bucket)
        {
            int low = 0, high = _buckets;
            if (_buckets > Whole)
            {
                low = bucket / Octave * Octave;
                high = Math.Min(low + Octave, _buckets);
            }

            long[] old = _counts;
            if (old.Length > 0)
            {
                low = Math.Min(low, _first);
                high = Math.Max(high, _first + old.Length);
            }

            var grown = new long[high - low];
            if (old.Length > 0)
            {
                old.CopyTo(grown, _first - low);
            }

            _counts = grown;
            _first = low;
            return grown;
        }

        /// <summary>One sample per non-empty bucket; the sum rides on the first.</summary>
        public void Emit(SampleBatchBuilder builder, double sum)
        {
            long[] counts = _counts;
            for (int bucket = _low; bucket <= _high; bucket++)
            {
                ref long count = ref counts[bucket - _first];
                if (count != 0)
                {
                    builder.Emit(Series, sum, count, SampleOp.ObserveBucket, bucket);
                    count = 0;
                    sum = 0;
                }
            }

            _low = int.MaxValue;
            _high = -1;
        }
    }
}
