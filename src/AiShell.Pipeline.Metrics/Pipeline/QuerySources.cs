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
    private const int Recent = 4;

    [ThreadStatic]
    private static RecentlyMarked? t_recent; // one thread-static: each is a lookup of its own

    private readonly ConcurrentDictionary<string, byte> _eventFed = new(StringComparer.Ordinal);

    /// <summary>
    /// Called by the event pipeline for every query event it folds. A thread remembers the last few
    /// databases it marked and skips the dictionary for them: hashing the name cost more than the
    /// rest of the fold.
    /// </summary>
    public void MarkEventFed(string database)
    {
        RecentlyMarked recent = t_recent ??= new RecentlyMarked();
        if (ReferenceEquals(recent.Owner, this))
        {
            foreach (string? seen in recent.Databases)
            {
                if (string.Equals(seen, database, StringComparison.Ordinal))
                {
                    return;
                }
            }
        }
        else
        {
            Array.Clear(recent.Databases);
            recent.Owner = this;
        }

        _eventFed.TryAdd(database, 0);
        recent.Databases[recent.Next] = database;
        recent.Next = (recent.Next + 1) % Recent;
    }

    private sealed class RecentlyMarked
    {
        public readonly string?[] Databases = new string?[Recent];
        public QuerySources? Owner;
        public int Next;
    }

    public bool IsEventFed(string database) => _eventFed.ContainsKey(database);
}
