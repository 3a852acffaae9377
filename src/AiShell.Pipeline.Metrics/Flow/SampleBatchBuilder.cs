using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AiShell.Pipeline.Metrics.Flow;

/// <summary>
/// Collects the samples of one collection run and splits them by shard as they are added
/// (<c>series.Ordinal % shards</c>), so each aggregator receives only series it owns.
/// </summary>
public sealed class SampleBatchBuilder
{
    private readonly string _source;
    private readonly Sample[]?[] _perShard;
    private readonly int[] _counts;
    private readonly int _initialCapacity;
    private readonly int _headroom;
    private readonly ulong _shardMultiplier; // Lemire's fastmod: Ordinal % shards without a division
    private readonly EventTally?[]? _tallies; // by the first series' ordinal; null: events are appended as samples
    private EventTally[] _listed = []; // tallies holding events, in the order they got their first
    private int _listedCount;
    private List<SampleBatch>? _sealed; // arrays a tally's emission filled, handed over with the rest
    private int _talliedEvents;
    private int _talliedSamples; // what the tallies will emit, at most
    private bool _nearlyFull;

    /// <summary>
    /// Samples per shard array for producers that stream (the in-process recorder, UDP ingest) and
    /// hand over when <see cref="NearlyFull"/>: every such batch is one array of this size, filled to
    /// within the headroom, so the arrays in flight are nearly used and all come from
    /// <see cref="SampleArrays"/>. (Arrays sized for a whole flush, 544 samples rounded up to 1,024,
    /// travelled a quarter full per shard.)
    /// </summary>
    public const int StreamingCapacity = 256;

    /// <summary>
    /// Tallied events after which <see cref="NearlyFull"/> turns true: at the pipeline's rates a
    /// millisecond or two of one producer's events, so what a scrape sees lags by no more than that
    /// (or the producer's idle hand-over, for a slower one).
    /// </summary>
    public const int MaxTalliedEvents = 16_384;

    /// <summary>Samples the tallies may hold back before <see cref="NearlyFull"/> turns true (128 KiB of them).</summary>
    public const int MaxTalliedSamples = 4_096;

    internal const int TallySlotBits = 10;
    internal const int TallySlots = 1 << TallySlotBits; // tuples a builder tallies at once (see Place)

    /// <param name="initialCapacity">Samples per shard before the first growth.</param>
    /// <param name="headroom">Free samples per shard below which <see cref="NearlyFull"/> turns true:
    /// a streaming producer passes the most samples one of its events can add.</param>
    /// <param name="tallyEvents">Whether <see cref="RecordEvent"/> tallies events until the hand-over
    /// (producers of many events per hand-over) or appends their samples at once.</param>
    public SampleBatchBuilder(string source, int shardCount, int initialCapacity = 64, int headroom = 0, bool tallyEvents = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shardCount, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(headroom);
        _initialCapacity = Math.Max(Math.Max(16, initialCapacity), 2 * headroom); // room for events between hand-overs
        _headroom = headroom;
        _source = source;
        _perShard = new Sample[shardCount][];
        _counts = new int[shardCount];
        _shardMultiplier = (ulong.MaxValue / (uint)shardCount) + 1;
        if (tallyEvents)
        {
            _tallies = new EventTally?[TallySlots];
        }
    }

    /// <summary>
    /// Some shard's array has fewer free samples than the headroom: hand over before the next event,
    /// or that shard's array grows (a copy into one twice as large).
    /// </summary>
    public bool NearlyFull => _nearlyFull;

    /// <summary>The producer every batch of this builder names.</summary>
    public string Source => _source;

    public void Set(Series series, double value) => Append(series, value, 0, SampleOp.Set);

    /// <summary>An increment; atomic on fold when the series' family has shared writes.</summary>
    public void Increment(Series series, double delta)
    {
        ArgumentNullException.ThrowIfNull(series);
        Append(series, delta, 0, Sample.AddOp(series));
    }

    /// <summary>An observation (families written through the pipeline have one writer: no shared histograms here).</summary>
    public void Observe(Series series, double value)
    {
        Debug.Assert(!series.SharedWrites, "a histogram with shared writes is written directly, not through the pipeline");
        Append(series, value, 0, SampleOp.Observe);
    }

    /// <summary><paramref name="count"/> observations totalling <paramref name="sum"/>, all in the bucket of their mean.</summary>
    public void ObserveMany(Series series, long count, double sum) => Append(series, sum, count, SampleOp.ObserveMany);

    /// <summary>
    /// <paramref name="count"/> observations of <paramref name="value"/> in a histogram or summary:
    /// what one sampled statsd timing stands for (<c>|@0.25</c> is four).
    /// </summary>
    public void ObserveRepeated(Series series, double value, long count)
    {
        ArgumentNullException.ThrowIfNull(series);
        Append(series, value * count, count, SampleOp.ObserveBucket, series.TallyBucket(value));
    }

    public void Clear(Series series) => Append(series, 0, 0, SampleOp.Clear);

    /// <summary>
    /// One event of a <see cref="SeriesGroup"/>'s tuple (<paramref name="members"/>, as
    /// <see cref="SeriesGroup.WithLabels"/> returned them): every counter among them counts one, every
    /// histogram and summary observes <paramref name="value"/>. A tallying builder folds the event
    /// into the tuple's <see cref="EventTally"/> and writes the samples at the hand-over (one per
    /// counter and per non-empty bucket); another appends them now. Either way the aggregators
    /// fold the same counts and buckets; a tallied sum is added up in another order, so it may
    /// differ from one event at a time in the last bits.
    /// </summary>
    /// <exception cref="ArgumentException">A member is a gauge (or untyped).</exception>
    public void RecordEvent(ReadOnlySpan<Series> members, double value)
    {
        EventTally?[]? tallies = _tallies;
        if (tallies is null || members.IsEmpty)
        {
            AppendEvent(members, value);
            return;
        }

        ref EventTally? slot = ref tallies[members[0].Ordinal & (TallySlots - 1)];
        EventTally? tally = slot;
        if (tally is null || !tally.Holds(members))
        {
            tally = Place(tallies, ref slot, members);
        }

        if (!tally.Listed)
        {
            List(tally);
        }

        _talliedSamples += tally.Add(value);
        if (++_talliedEvents >= MaxTalliedEvents || _talliedSamples >= MaxTalliedSamples)
        {
            _nearlyFull = true;
        }
    }

    /// <summary>
    /// <paramref name="count"/> events of the tuple, each observing <paramref name="value"/> (a
    /// sampled statsd timing): counters count <paramref name="count"/>, histograms and summaries
    /// observe it that many times. Appended at once, past the tallies: such events are rare.
    /// </summary>
    public void RecordEvent(ReadOnlySpan<Series> members, double value, long count)
    {
        if (count == 1)
        {
            RecordEvent(members, value);
            return;
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        foreach (Series series in members)
        {
            EventTally.CheckMember(series);
            if (series.Family.Type == MetricType.Counter)
            {
                Increment(series, count);
            }
            else
            {
                ObserveRepeated(series, value, count);
            }
        }
    }

    private void AppendEvent(ReadOnlySpan<Series> members, double value)
    {
        foreach (Series series in members)
        {
            EventTally.CheckMember(series);
            if (series.Family.Type == MetricType.Counter)
            {
                Increment(series, 1);
            }
            else
            {
                Observe(series, value);
            }
        }
    }

    /// <summary>
    /// The tally of a tuple its first slot does not hold: each tuple has a second slot (another mix
    /// of its ordinal), so two tuples that share one slot each keep a tally instead of taking
    /// turns (each turn emits the tally it takes over, samples per event as without tallies). A
    /// new tuple takes whichever of its slots holds no events, else the first.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private EventTally Place(EventTally?[] tallies, ref EventTally? first, ReadOnlySpan<Series> members)
    {
        ref EventTally? second = ref tallies[SecondSlot(members[0].Ordinal)];
        if (second is { } there && there.Holds(members))
        {
            return there;
        }

        bool firstBusy = first is { Events: > 0 };
        return firstBusy && second is not { Events: > 0 } ? Claim(ref second, members) : Claim(ref first, members);
    }

    /// <summary>A tuple's second tally slot: its ordinal's Fibonacci hash, unlike the first slot's low bits.</summary>
    private static int SecondSlot(int ordinal) => (int)(((uint)ordinal * 0x9E3779B1u) >> (32 - TallySlotBits));

    /// <summary>The slot's tally for a tuple it does not hold: the one there emits its events first.</summary>
    private EventTally Claim(ref EventTally? slot, ReadOnlySpan<Series> members)
    {
        EventTally tally = slot ??= new EventTally();
        if (tally.Events > 0)
        {
            tally.Emit(this);
        }

        tally.Reset(members);
        return tally;
    }

    private void List(EventTally tally)
    {
        if (_listedCount == _listed.Length)
        {
            Array.Resize(ref _listed, Math.Max(16, _listedCount * 2));
        }

        _listed[_listedCount++] = tally;
        tally.Listed = true;
    }

    /// <summary>
    /// A tally's sample: appended as any other, except that a full array is finished as a batch
    /// and a new one started instead of growing (a streaming producer's arrays stay one size).
    /// </summary>
    internal void Emit(Series series, double value, long count, SampleOp op, int bucket)
    {
        int shard = ShardOf((uint)series.Ordinal);
        if (_perShard[shard] is { } items && _counts[shard] == items.Length)
        {
            (_sealed ??= []).Add(new SampleBatch(_source, shard, items, items.Length));
            _perShard[shard] = null;
            _counts[shard] = 0;
        }

        Append(series, value, count, op, bucket);
    }

    /// <summary>Every tally's events as samples, before a hand-over.</summary>
    private void EmitTallies()
    {
        for (int i = 0; i < _listedCount; i++)
        {
            EventTally tally = _listed[i];
            if (tally.Events > 0)
            {
                tally.Emit(this);
            }

            tally.Listed = false;
        }

        ForgetListed();
    }

    /// <summary>No tally is listed any more and none holds back events or samples.</summary>
    private void ForgetListed()
    {
        Array.Clear(_listed, 0, _listedCount);
        _listedCount = 0;
        _talliedEvents = 0;
        _talliedSamples = 0;
    }

    /// <summary>
    /// Writes the sample straight into its shard's array (no intermediate copy of the struct), through
    /// references without bounds checks: the fastmod yields a shard below the shard count, and the
    /// array is grown before the count reaches its length. (Three bounds checks and a running total,
    /// which nothing read, were a sixth of a query event's appends.)
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Append(Series series, double value, long count, SampleOp op, int bucket = 0)
    {
        int shard = ShardOf((uint)series.Ordinal);
        Debug.Assert((uint)shard < (uint)_perShard.Length);
        ref int used = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_counts), shard);
        Sample[]? items = Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_perShard), shard);
        int at = used;
        if (items is null || (uint)at >= (uint)items.Length)
        {
            items = Grow(shard, at);
        }

        items[at] = new Sample(series, value, count, op, bucket); // an element store: the unchecked write barrier (a store through a ref took the checked one)
        used = ++at;
        if (at > items.Length - _headroom)
        {
            _nearlyFull = true;
        }
    }

    private Sample[] Grow(int shard, int used)
    {
        Sample[]? items = _perShard[shard];
        if (items is null)
        {
            return _perShard[shard] = SampleArrays.Rent(_initialCapacity);
        }

        Sample[] grown = SampleArrays.Rent(items.Length * 2);
        Array.Copy(items, grown, used);
        SampleArrays.Return(items);
        return _perShard[shard] = grown;
    }

    /// <summary>
    /// <c>ordinal % shards</c> (an integer division cost a fifth of the whole fold) as two multiplies;
    /// exact for every 32-bit ordinal (Lemire, "Faster Remainder by Direct Computation", 2019).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int ShardOf(uint ordinal) =>
        (int)(((((_shardMultiplier * ordinal) >> 32) + 1) * (uint)_perShard.Length) >> 32);

    /// <summary>Hands over one batch per shard that received samples and resets the builder.</summary>
    public List<SampleBatch> Build()
    {
        var batches = new List<SampleBatch>(_perShard.Length);
        BuildInto(batches);
        return batches;
    }

    /// <summary>As <see cref="Build()"/>, into a list the caller reuses (it is cleared first).</summary>
    public void BuildInto(List<SampleBatch> batches)
    {
        ArgumentNullException.ThrowIfNull(batches);
        batches.Clear();
        if (_listedCount > 0)
        {
            EmitTallies();
        }

        if (_sealed is { Count: > 0 })
        {
            batches.AddRange(_sealed); // before the same shards' later arrays: each shard's batches stay in order
            _sealed.Clear();
        }

        for (int shard = 0; shard < _perShard.Length; shard++)
        {
            if (_perShard[shard] is { } items && _counts[shard] > 0)
            {
                batches.Add(new SampleBatch(_source, shard, items, _counts[shard]));
                _perShard[shard] = null;
                _counts[shard] = 0;
            }
        }

        _nearlyFull = false;
    }

    /// <summary>Returns rented arrays when a run is abandoned.</summary>
    public void Discard()
    {
        ForgetListed();
        if (_tallies is not null)
        {
            Array.Clear(_tallies); // the tallies and their counts are abandoned with the run
        }

        if (_sealed is not null)
        {
            foreach (SampleBatch batch in _sealed)
            {
                batch.Release();
            }

            _sealed.Clear();
        }

        for (int shard = 0; shard < _perShard.Length; shard++)
        {
            if (_perShard[shard] is { } items)
            {
                SampleArrays.Return(items);
                _perShard[shard] = null;
                _counts[shard] = 0;
            }
        }

        _nearlyFull = false;
    }
}
