using AiShell.Pipeline.Metrics;

namespace AiShell.Pipeline.Actors;

/// <summary>
/// A collector's own series. Written directly (not through the channels) by its actor and its
/// supervisor, on different threads, hence the atomic operations.
/// </summary>
internal sealed class CollectorSelfMetrics
{
    public CollectorSelfMetrics(MetricRegistry registry, string collector, string database)
    {
        Up = registry.Register(MetricCatalog.CollectorUp).WithLabels(PipelineStatus.SourceName(collector, database));
        Errors = registry.Register(MetricCatalog.CollectorErrorsTotal).WithLabels(PipelineStatus.SourceName(collector, database));
        Duration = registry.Register(MetricCatalog.CollectorDurationSeconds).WithLabels(collector, database);
        LastSuccess = registry.Register(MetricCatalog.CollectorLastSuccess).WithLabels(collector, database);
        Errors.Add(0); // shown from the start; a collector re-added by a reload keeps the count
        Up.Set(0);
    }

    public Series Up { get; }

    public Series Errors { get; }

    public Series Duration { get; }

    public Series LastSuccess { get; }

    /// <summary>The collector left (config reload): its series leave the exposition, their state stays.</summary>
    public void Clear()
    {
        Up.Clear();
        Errors.Clear();
        Duration.Clear();
        LastSuccess.Clear();
    }
}
