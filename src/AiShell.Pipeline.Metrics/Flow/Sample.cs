namespace AiShell.Pipeline.Metrics.Flow;

public enum SampleOp : byte
{
    /// <summary>Replace the value: gauges, and counters read as cumulative totals from a source.</summary>
    Set,

    /// <summary>Increment a counter or gauge.</summary>
    Add,

    /// <summary>Increment a series of a family with shared writes (atomic).</summary>
    AddShared,

    /// <summary>Record one observation into a histogram.</summary>
    Observe,

    /// <summary>Record <c>Count</c> observations whose total is <c>Value</c>; their mean picks the bucket.</summary>
    ObserveMany,

    /// <summary>Stop exposing the series until it is written again.</summary>
    Clear,

    /// <summary>Add <c>Count</c> observations to a histogram's or summary's bucket <c>Bucket</c> and <c>Value</c> to the sum (a producer's tally).</summary>
    ObserveBucket,
}

/// <summary>
/// One value for one series, as it travels inside a <see cref="SampleBatch"/>: 32 bytes (a 40-byte
/// layout with a separate sum for ObserveMany made every other sample pay for it in copies). The
/// bucket of a tallied observation count sits in the padding after <see cref="Op"/>.
/// </summary>
public readonly record struct Sample(Series Series, double Value, long Count, SampleOp Op, int Bucket = 0)
{
    /// <summary>
    /// The increment op for <paramref name="series"/>: atomic on fold when its family declares shared
    /// writes. Settled here, when a sample is made, so the fold's plain Add pays no branch for it.
    /// </summary>
    internal static SampleOp AddOp(Series series) => series.SharedWrites ? SampleOp.AddShared : SampleOp.Add;

    /// <summary>
    /// Applies the sample, sharing the batch's one clock read (see <see cref="Series.Observe(double, ref long)"/>).
    /// Only the aggregator that owns the series' shard calls this.
    /// </summary>
    internal void Fold(ref long now)
    {
        switch (Op)
        {
            case SampleOp.Set:
                Series.Set(Value);
                break;
            case SampleOp.Add:
                Series.AddOwned(Value);
                break;
            case SampleOp.AddShared:
                Series.AddShared(Value);
                break;
            case SampleOp.Observe:
                Series.Observe(Value, ref now);
                break;
            case SampleOp.ObserveMany:
                Series.ObserveMany(Count, Value);
                break;
            case SampleOp.ObserveBucket:
                Series.ObserveBucket(Bucket, Count, Value, ref now);
                break;
            default:
                Series.Clear();
                break;
        }
    }
}
