using System.Collections.Concurrent;

namespace AiShell.Pipeline.Metrics.Pipeline;

/// <summary>
/// Who counts a database's queries. Query events (exact, one per query) win over
/// pg_stat_statements (approximate, per-interval deltas): once events arrive for a database, the
/// statistics collector stops feeding aishell_query_total, aishell_query_duration_seconds and
/// aishell_slow_query_total for it, so no query is counted twice.
/// </summary>
public sealed class QuerySources
{
    private readonly ConcurrentDictionary<string, byte> _eventFed = new(StringComparer.Ordinal);

    /// <summary>
    /// Called by the event pipeline when it resolves a query event's label tuple it has not
    /// remembered (see <see cref="SeriesGroup.OnResolve"/>): once per tuple, not per event.
    /// </summary>
    public void MarkEventFed(string database) => _eventFed.TryAdd(database, 0);

    public bool IsEventFed(string database) => _eventFed.ContainsKey(database);
}
