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

    public SampleBatchBuilder(string source, int shardCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shardCount, 1);
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
        Sample[] items = _perShard[shard] ??= ArrayPool<Sample>.Shared.Rent(64);
        int count = _counts[shard];
        if (count == items.Length)
        {
            Sample[] grown = ArrayPool<Sample>.Shared.Rent(items.Length * 2);
            Array.Copy(items, grown, count);
            ArrayPool<Sample>.Shared.Return(items, clearArray: true);
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
                ArrayPool<Sample>.Shared.Return(items, clearArray: true);
                _perShard[shard] = null;
                _counts[shard] = 0;
            }
        }

        Count = 0;
    }
}
