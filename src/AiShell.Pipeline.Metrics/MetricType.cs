namespace AiShell.Pipeline.Metrics;

/// <summary>The kind of a metric family, as exposed in <c># TYPE</c>.</summary>
public enum MetricType : byte
{
    Counter,
    Gauge,
    Histogram,

    /// <summary>Quantiles over a sliding window, plus cumulative _sum and _count.</summary>
    Summary,
}
