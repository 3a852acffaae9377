using AiShell.Pipeline.Metrics;
using AiShell.Pipeline.Metrics.Flow;

namespace AiShell.Pipeline.Collectors;

/// <summary>
/// A source of samples pulled on every collect interval. The actor layer runs it, supervises it and
/// moves what it adds to the builder through the pipeline; a collector only reads and maps.
/// </summary>
public interface ICollector
{
    /// <summary>Stable name, the <c>collector</c> label of the self-metrics (<c>host</c>, <c>postgres</c>).</summary>
    string Name { get; }

    /// <summary>The <c>database</c> label of the self-metrics; empty for host collectors.</summary>
    string Database => "";

    /// <summary>Registers the families this collector writes. Called once, before the first run.</summary>
    void Register(MetricRegistry registry);

    /// <summary>Reads the source and adds samples. Throwing marks the run failed (the collector restarts with backoff).</summary>
    ValueTask CollectAsync(SampleBatchBuilder batch, CancellationToken cancellationToken);

    /// <summary>
    /// Called by the supervisor when a run failed in any way, including a run abandoned because it
    /// exceeded its time (a frozen server): the collector marks its source down at once.
    /// </summary>
    void OnRunFailed()
    {
    }
}
