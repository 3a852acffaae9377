using AiShell.Pipeline.Metrics;
using AiShell.Pipeline.Metrics.Flow;

namespace AiShell.Pipeline.Collectors.Postgres;

/// <summary>
/// Remembers which series a view wrote in its last run, so series that vanished (a table that left
/// the top N, a standby that disconnected, a NULL value) are cleared instead of kept at a stale value.
/// </summary>
internal sealed class SeriesTracker
{
    private HashSet<Series> _previous = [];
    private HashSet<Series> _current = [];

    public void Set(SampleBatchBuilder batch, Series series, double value)
    {
        batch.Set(series, value);
        _current.Add(series);
    }

    /// <summary>Clears what was written last run but not this run, and starts the next run.</summary>
    public void Finish(SampleBatchBuilder batch)
    {
        foreach (Series series in _previous)
        {
            if (!_current.Contains(series))
            {
                batch.Clear(series);
            }
        }

        (_previous, _current) = (_current, _previous);
        _current.Clear();
    }
}
