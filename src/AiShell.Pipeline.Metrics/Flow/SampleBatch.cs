namespace AiShell.Pipeline.Metrics.Flow;

/// <summary>
/// The unit that moves through channels and actor mailboxes: many samples for one shard, from one
/// source. Its array is rented; the aggregator returns it with <see cref="Release"/> after folding.
/// </summary>
public sealed class SampleBatch
{
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
            SampleArrays.Return(items);
        }
    }
}
