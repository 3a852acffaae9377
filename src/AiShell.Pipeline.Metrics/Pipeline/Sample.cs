namespace AiShell.Pipeline.Metrics.Pipeline;

public enum SampleOp : byte
{
    /// <summary>Replace the value: gauges, and counters read as cumulative totals from a source.</summary>
    Set,

    /// <summary>Increment a counter or gauge.</summary>
    Add,

    /// <summary>Record one observation into a histogram.</summary>
    Observe,
}

/// <summary>One value for one series, as it travels inside a <see cref="SampleBatch"/>.</summary>
public readonly record struct Sample(Series Series, double Value, SampleOp Op)
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
            default:
                Series.Observe(Value);
                break;
        }
    }
}
