using System.Buffers;

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

    /// <summary>The largest sample array (2048 × 40 bytes) that stays off the large-object heap.</summary>
    public const int SmallArray = 2048;

    /// <param name="initialCapacity">Samples per shard before the first growth: producers that flush at a
    /// known size (the in-process recorder) ask for it up front, so a batch is one pooled array.</param>
    public SampleBatchBuilder(string source, int shardCount, int initialCapacity = 64)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shardCount, 1);
        _initialCapacity = Math.Max(16, initialCapacity);
        _source = source;
        _perShard = new Sample[shardCount][];
        _counts = new int[shardCount];
    }

    public int Count { get; private set; }

    public void Set(Series series, double value) => Add(new Sample(series, value, SampleOp.Set));

    public void Increment(Series series, double delta) => Add(new Sample(series, delta, SampleOp.Add));

    public void Observe(Series series, double value) => Add(new Sample(series, value, SampleOp.Observe));

    public void ObserveMany(Series series, double value, long count, double sum) =>
        Add(new Sample(series, value, SampleOp.ObserveMany, count, sum));

    public void Clear(Series series) => Add(new Sample(series, 0, SampleOp.Clear));

    /// <summary>Increment of a series that is also written outside the pipeline (atomic on fold).</summary>
    public void IncrementShared(Series series, double delta) => Add(new Sample(series, delta, SampleOp.AddShared));

    /// <summary>Observation into a histogram also written outside the pipeline (atomic on fold).</summary>
    public void ObserveShared(Series series, double value) => Add(new Sample(series, value, SampleOp.ObserveShared));

    public void Add(in Sample sample)
    {
        int shard = sample.Series.Ordinal % _perShard.Length;
        Sample[] items = _perShard[shard] ??= SampleBatch.Pool.Rent(_initialCapacity);
        int count = _counts[shard];
        if (count == items.Length)
        {
            Sample[] grown = SampleBatch.Pool.Rent(items.Length * 2);
            Array.Copy(items, grown, count);
            SampleBatch.Pool.Return(items);
            _perShard[shard] = items = grown;
        }

        items[count] = sample;
        _counts[shard] = count + 1;
        Count++;
    }

    /// <summary>Hands over one batch per shard that received samples and resets the builder.</summary>
    public List<SampleBatch> Build()
    {
        var batches = new List<SampleBatch>(_perShard.Length);
        for (int shard = 0; shard < _perShard.Length; shard++)
        {
            if (_perShard[shard] is { } items && _counts[shard] > 0)
            {
                batches.Add(new SampleBatch(_source, shard, items, _counts[shard]));
                _perShard[shard] = null;
                _counts[shard] = 0;
            }
        }

        Count = 0;
        return batches;
    }

    /// <summary>Returns rented arrays when a run is abandoned.</summary>
    public void Discard()
    {
        for (int shard = 0; shard < _perShard.Length; shard++)
        {
            if (_perShard[shard] is { } items)
            {
                SampleBatch.Pool.Return(items);
                _perShard[shard] = null;
                _counts[shard] = 0;
            }
        }

        Count = 0;
    }
}
