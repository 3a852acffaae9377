namespace AiShell.Pipeline.Metrics.Pipeline;

public enum SampleOp : byte
{
    /// <summary>Replace the value: gauges, and counters read as cumulative totals from a source.</summary>
    Set,

    /// <summary>Increment a counter or gauge.</summary>
    Add,

    /// <summary>Record one observation into a histogram.</summary>
    Observe,

    /// <summary>Record <c>Count</c> observations of <c>Value</c> whose total is <c>Sum</c>.</summary>
    ObserveMany,

    /// <summary>Stop exposing the series until it is written again.</summary>
    Clear,

    /// <summary>Increment a series that other threads also write directly (self-metrics families).</summary>
    AddShared,

    /// <summary>Observe into a histogram that other threads also write directly.</summary>
    ObserveShared,
}

/// <summary>One value for one series, as it travels inside a <see cref="SampleBatch"/>.</summary>
public readonly record struct Sample(Series Series, double Value, SampleOp Op, long Count = 0, double Sum = 0)
{
    /// <summary>Applies the sample. Only the aggregator that owns the series' shard calls this.</summary>
    public void Fold()
    {
        switch (Op)
        {
            case SampleOp.Set:
                Series.Set(Value);
                break;
            case SampleOp.Add:
                Series.Add(Value);
                break;
            case SampleOp.Observe:
                Series.Observe(Value);
                break;
            case SampleOp.ObserveMany:
                Series.ObserveMany(Value, Count, Sum);
                break;
            case SampleOp.AddShared:
                Series.AddAtomic(Value);
                break;
            case SampleOp.ObserveShared:
                Series.ObserveAtomic(Value);
                break;
            default:
                Series.Clear();
                break;
        }
    }
}
