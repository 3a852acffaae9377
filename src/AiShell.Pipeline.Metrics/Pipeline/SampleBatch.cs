using System.Buffers;

namespace AiShell.Pipeline.Metrics.Pipeline;

/// <summary>
/// The unit that moves through channels and actor mailboxes: many samples for one shard, from one
/// source. Its array is rented; the aggregator returns it with <see cref="Release"/> after folding.
/// </summary>
public sealed class SampleBatch
{
    /// <summary>
    /// The arrays batches travel in. A pool of its own (not ArrayPool.Shared, whose per-core stacks
    /// hold 8 arrays per size) so that the many batches in flight under load are all reused. Arrays
    /// are not cleared on return: the series they point at live as long as the registry anyway.
    /// </summary>
    internal static readonly ArrayPool<Sample> Pool = ArrayPool<Sample>.Create(1 << 20, 1024);

    private Sample[] _items;

    internal SampleBatch(string source, int shard, Sample[] items, int count)
    {
        Source = source;
        Shard = shard;
        _items = items;
        Count = count;
    }

    /// <summary>The collector or ingest path that produced the batch (for readiness and status).</summary>
    public string Source { get; }

    public int Shard { get; }

    public int Count { get; private set; }

    public ReadOnlySpan<Sample> Items => new(_items, 0, Count);

    /// <summary>Folds every sample into its series; summaries share one clock read per batch.</summary>
    public void Fold()
    {
        long now = Series.NoTimestamp;
        foreach (ref readonly Sample sample in Items)
        {
            sample.Fold(ref now);
        }
    }

    public void Release()
    {
        Sample[] items = _items;
        _items = [];
        Count = 0;
        if (items.Length > 0)
        {
            Pool.Return(items);
        }
    }
}
