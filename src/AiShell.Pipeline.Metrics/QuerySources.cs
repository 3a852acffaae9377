using System.Collections.Concurrent;

namespace AiShell.Pipeline.Metrics;

/// <summary>
/// A database's <c>query_source</c>: where its query metrics (aishell_query_total,
/// aishell_query_duration_seconds, aishell_slow_query_total) come from.
/// </summary>
public enum QuerySource
{
    /// <summary>Query events while they arrive; pg_stat_statements after <see cref="QuerySources.QuietCollections"/> collections without one.</summary>
    Auto,

    /// <summary>Query events only; pg_stat_statements never counts.</summary>
    Events,

    /// <summary>pg_stat_statements only; query events for the database are refused.</summary>
    Statements,
}

/// <summary>
/// Who counts each database's queries, so that no query is counted twice: exact query events (one
/// per query) or pg_stat_statements (per-interval deltas). The statements view asks once per
/// collection (<see cref="StatementsCount"/>). Whether events still arrive is read from the
/// database's query-duration summary, which only events feed: its count moving means events came.
/// </summary>
public sealed class QuerySources
{
    /// <summary>Collections in a row without a query event after which <see cref="QuerySource.Auto"/> hands the database back to pg_stat_statements.</summary>
    public const int QuietCollections = 10;

    private readonly ConcurrentDictionary<string, State> _databases = new(StringComparer.Ordinal);
    private volatile bool _anyStatementsOnly;

    private sealed class State
    {
        public QuerySource Mode;
        public Series? EventSummary; // the database's aishell_query_duration_summary series, once an event made it
        public long LastCount;
        public int Quiet;
    }

    private State Get(string database) => _databases.GetOrAdd(database, static _ => new State());

    /// <summary>Sets a database's source (from its config entry; <see cref="QuerySource.Auto"/> when never set).</summary>
    public void SetMode(string database, QuerySource mode)
    {
        Get(database).Mode = mode;
        if (mode == QuerySource.Statements)
        {
            _anyStatementsOnly = true;
        }
    }

    /// <summary>
    /// Called by the event pipeline when it resolves a query event's label tuple it has not
    /// remembered (see <see cref="SeriesGroup.OnResolve"/>): once per tuple, not per event.
    /// </summary>
    public void MarkEventFed(string database, Series summary) => Get(database).EventSummary ??= summary;

    /// <summary>True when query events for the database are refused (its source is <see cref="QuerySource.Statements"/>). Costs nothing while no database is.</summary>
    public bool RefusesEvents(string database) =>
        _anyStatementsOnly && _databases.TryGetValue(database, out State? state) && state.Mode == QuerySource.Statements;

    /// <summary>
    /// Whether pg_stat_statements counts the database's queries in this collection. Called once per
    /// collection by the database's statements view (its only caller), which is what makes
    /// <see cref="QuietCollections"/> a number of collections.
    /// </summary>
    public bool StatementsCount(string database)
    {
        State state = Get(database);
        switch (state.Mode)
        {
            case QuerySource.Statements:
                return true;
            case QuerySource.Events:
                return false;
        }

        if (state.EventSummary is not { } summary)
        {
            return true; // no query event ever
        }

        long count = summary.SummaryCount;
        if (count != state.LastCount)
        {
            state.LastCount = count;
            state.Quiet = 0;
            return false;
        }

        state.Quiet = Math.Min(state.Quiet + 1, QuietCollections);
        return state.Quiet >= QuietCollections;
    }
}
