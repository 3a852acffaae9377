using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AiShell.Pipeline.Metrics.Pipeline;

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
    private bool _nearlyFull;

    /// <summary>
    /// Samples per shard array for producers that stream (the in-process recorder, UDP ingest) and
    /// hand over when <see cref="NearlyFull"/>: every such batch is one array of this size, filled to
    /// within the headroom, so the arrays in flight are nearly used and all come from
    /// <see cref="SampleArrays"/>. (Arrays sized for a whole flush, 544 samples rounded up to 1,024,
    /// travelled a quarter full per shard.)
    /// </summary>
    public const int StreamingCapacity = 256;

    /// <param name="initialCapacity">Samples per shard before the first growth.</param>
    /// <param name="headroom">Free samples per shard below which <see cref="NearlyFull"/> turns true:
    /// a streaming producer passes the most samples one of its events can add.</param>
    public SampleBatchBuilder(string source, int shardCount, int initialCapacity = 64, int headroom = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shardCount, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(headroom);
        _initialCapacity = Math.Max(Math.Max(16, initialCapacity), 2 * headroom); // room for events between hand-overs
        _headroom = headroom;
        _source = source;
        _perShard = new Sample[shardCount][];
        _counts = new int[shardCount];
        _shardMultiplier = (ulong.MaxValue / (uint)shardCount) + 1;
    }

    /// <summary>
    /// Some shard's array has fewer free samples than the headroom: hand over before the next event,
    /// or that shard's array grows (a copy into one twice as large).
    /// </summary>
    public bool NearlyFull => _nearlyFull;

    public void Set(Series series, double value) => Append(series, value, 0, SampleOp.Set);

    public void Increment(Series series, double delta) => Append(series, delta, 0, SampleOp.Add);

    public void Observe(Series series, double value) => Append(series, value, 0, SampleOp.Observe);

    /// <summary><paramref name="count"/> observations totalling <paramref name="sum"/>, all in the bucket of their mean.</summary>
    public void ObserveMany(Series series, long count, double sum) => Append(series, sum, count, SampleOp.ObserveMany);

    public void Clear(Series series) => Append(series, 0, 0, SampleOp.Clear);

    /// <summary>Increment of a series that is also written outside the pipeline (atomic on fold).</summary>
    public void IncrementShared(Series series, double delta) => Append(series, delta, 0, SampleOp.AddShared);

    /// <summary>Observation into a histogram also written outside the pipeline (atomic on fold).</summary>
    public void ObserveShared(Series series, double value) => Append(series, value, 0, SampleOp.ObserveShared);

    /// <summary>
    /// Writes the sample straight into its shard's array (no intermediate copy of the struct), through
    /// references without bounds checks: the fastmod yields a shard below the shard count, and the
    /// array is grown before the count reaches its length. (Three bounds checks and a running total,
    /// which nothing read, were a sixth of a query event's appends.)
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Append(Series series, double value, long count, SampleOp op)
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

        items[at] = new Sample(series, value, count, op); // an element store: the unchecked write barrier (a store through a ref took the checked one)
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
