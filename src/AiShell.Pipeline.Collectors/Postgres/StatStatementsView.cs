using AiShell.Pipeline.Metrics;
using AiShell.Pipeline.Metrics.Flow;
using Npgsql;

namespace AiShell.Pipeline.Collectors.Postgres;

/// <summary>
/// Query metrics from pg_stat_statements, as per-interval deltas of each statement's cumulative
/// calls and execution time:
/// <list type="bullet">
/// <item><c>aishell_query_total{type,status="success"}</c> += Δcalls (pg_stat_statements records only
/// statements that completed).</item>
/// <item><c>aishell_query_duration_seconds{type}</c>: Δcalls observations of the interval mean
/// Δtime/Δcalls, with Δtime added to <c>_sum</c>. The approximation: all calls of one statement in
/// one interval land in the bucket of their mean, so quantiles are of per-statement interval means.</item>
/// <item><c>aishell_slow_query_total{threshold}</c> += Δcalls of statements whose interval mean exceeds the threshold.</item>
/// </list>
/// The first run only takes a baseline (history before the exporter started is not replayed as a
/// burst). A statement whose counters went down was reset or evicted: it gets a new baseline.
/// Only top-level statements count (PG 14+), so a function's inner statements are not counted twice.
/// When query events arrive for the database, see <see cref="QuerySources"/>.
/// <para>
/// The extension is often created once, in <c>postgres</c>, not in every database: its view shows
/// the statements of the whole server. When it is missing here, the view is read in the first
/// other database of the server that has it (<c>postgres</c> first), keeping this database's rows
/// (by <c>dbid</c>); the search runs again every <see cref="SearchEvery"/> collections while
/// nothing is found, and at once when the database found stops answering.
/// </para>
/// </summary>
internal sealed class StatStatementsView(IReadOnlyList<double> thresholds, QuerySources querySources, Action<string> log,
    Func<string, CancellationToken, ValueTask<NpgsqlConnection>>? openDatabase = null) : PostgresView
{
    /// <summary>Collections between searches for a database that has the extension, while none has.</summary>
    internal const int SearchEvery = 10;

    /// <summary>At most this many other databases are tried per search.</summary>
    private const int MaxCandidates = 32;
    private const string Types = "SELECT,INSERT,UPDATE,DELETE,OTHER";
    private readonly Dictionary<(long User, long Query), (long Calls, double TimeMs)> _baseline = [];
    private readonly Dictionary<(long User, long Query), string> _typeCache = [];
    private readonly HashSet<(long User, long Query)> _seen = [];
    private readonly Dictionary<string, Series> _totals = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Series> _durations = new(StringComparer.Ordinal);
    private Series[] _slow = [];
    private Series _available = null!;
    private string _database = "";
    private bool _firstRun = true;
    private bool? _wasAvailable;
    private string? _statsDatabase; // the other database whose view is read, when this one has no extension
    private int _searchIn; // collections until the next search

    public override string Name => "pg_stat_statements";

    public override MetricGroup? Group => MetricGroup.Queries;

    public override void Register(MetricRegistry registry, string database)
    {
        _database = database;
        MetricFamily total = registry.Register(MetricCatalog.QueryTotal);
        MetricFamily duration = registry.Register(MetricCatalog.QueryDurationSeconds);
        foreach (string type in Types.Split(','))
        {
            _totals[type] = total.WithLabels(database, type, "success");
            _durations[type] = duration.WithLabels(database, type);
        }

        MetricFamily slow = registry.Register(MetricCatalog.SlowQueryTotal);
        _slow = thresholds.Select(t => slow.WithLabels(database, t.ToString("R", System.Globalization.CultureInfo.InvariantCulture))).ToArray();
        _available = registry.Register(MetricCatalog.StatStatementsAvailable).WithLabels(database);
    }

    public override async Task ScrapeAsync(PgScrape scrape)
    {
        (bool here, string? reason) = await ExtensionHereAsync(scrape);
        NpgsqlConnection? elsewhere = null;
        try
        {
            if (!here && (elsewhere = await ElsewhereAsync(scrape)) is null)
            {
                Report(scrape, available: false, reason);
                return;
            }

            Report(scrape, available: true, null);
            long dbid = 0;
            await scrape.QueryAsync("SELECT oid::int8 FROM pg_database WHERE datname = current_database()", row => dbid = row.GetInt64(0));
            string sql = StatementsSql(scrape.MajorVersion);

            bool count = querySources.StatementsCount(_database) && !_firstRun;
            _seen.Clear();
            PgScrape source = elsewhere is null ? scrape : new PgScrape(elsewhere, scrape.Batch, scrape.Token);
            try
            {
                await source.QueryAsync(sql, row => Fold(scrape.Batch, row, count), new NpgsqlParameter<long>("dbid", dbid));
            }
            catch (Exception ex) when (elsewhere is not null && ex is NpgsqlException or TimeoutException)
            {
                // The database found stopped answering (or lost the extension): search again next run.
                log($"database {_database}: pg_stat_statements in database {_statsDatabase} cannot be read ({ex.Message}); searching again");
                _statsDatabase = null;
                _searchIn = 0;
                return;
            }
        }
        finally
        {
            if (elsewhere is not null)
            {
                await elsewhere.DisposeAsync();
            }
        }

        _firstRun = false;

        if (_seen.Count < _baseline.Count)
        {
            foreach ((long, long) key in _baseline.Keys.Where(k => !_seen.Contains(k)).ToList())
            {
                _baseline.Remove(key);
                _typeCache.Remove(key);
            }
        }

        // Make the families visible (at their current totals) even before the first statement runs.
        foreach (Series s in _totals.Values)
        {
            scrape.Batch.Increment(s, 0);
        }

        foreach (Series s in _slow)
        {
            scrape.Batch.Increment(s, 0);
        }
    }

    private void Fold(SampleBatchBuilder batch, NpgsqlDataReader row, bool count)
    {
        (long, long) key = (row.GetInt64(0), row.GetInt64(1));
        long calls = row.GetInt64(2);
        double timeMs = row.GetDouble(3);
        _seen.Add(key);
        bool known = _baseline.TryGetValue(key, out (long Calls, double TimeMs) before);
        _baseline[key] = (calls, timeMs);
        if (known && (calls < before.Calls || timeMs < before.TimeMs))
        {
            return; // reset or evicted and re-added: this reading is the new baseline
        }

        long dCalls = calls - (known ? before.Calls : 0);
        double dSeconds = (timeMs - (known ? before.TimeMs : 0)) / 1000.0;
        if (!count || dCalls <= 0)
        {
            return;
        }

        if (!_typeCache.TryGetValue(key, out string? type))
        {
            type = StatementType.Classify(row.IsDBNull(4) ? "" : row.GetString(4));
            _typeCache[key] = type;
        }

        double mean = dSeconds / dCalls;
        batch.Increment(_totals[type], dCalls);
        batch.ObserveMany(_durations[type], dCalls, dSeconds);
        for (int i = 0; i < _slow.Length; i++)
        {
            if (mean > thresholds[i])
            {
                batch.Increment(_slow[i], dCalls);
            }
        }
    }

    /// <summary>
    /// The statements query for a server version: the execution time column is <c>total_time</c>
    /// before PostgreSQL 13 and <c>total_exec_time</c> from 13 on; <c>toplevel</c> exists from 14
    /// on (before, a function's inner statements cannot be told apart and count too).
    /// </summary>
    internal static string StatementsSql(int majorVersion)
    {
        string time = majorVersion >= 13 ? "total_exec_time" : "total_time";
        string topLevel = majorVersion >= 14 ? "AND s.toplevel" : "";
        return $"""
            SELECT s.userid::int8, s.queryid, s.calls, s.{time}, s.query
            FROM pg_stat_statements s
            WHERE s.dbid::int8 = @dbid AND s.queryid IS NOT NULL {topLevel}
            """;
    }

    /// <summary>Whether this database has the extension and its view answers; why not, when it does not.</summary>
    private static async Task<(bool Here, string? Reason)> ExtensionHereAsync(PgScrape scrape)
    {
        bool installed = false;
        try
        {
            await scrape.QueryAsync("SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements'", row => installed = row.GetInt64(0) > 0);
            if (!installed)
            {
                return (false, "the extension is not installed in this database or any other of the server this exporter may connect to (CREATE EXTENSION pg_stat_statements, in this database or in postgres)");
            }

            await scrape.QueryAsync("SELECT 1 FROM pg_stat_statements LIMIT 1", _ => { });
            return (true, null);
        }
        catch (PostgresException ex) when (ex.SqlState is "55000" or "42501" or "42P01")
        {
            // 55000: not in shared_preload_libraries; 42501: no permission; 42P01: view missing.
            return (false, ex.MessageText);
        }
    }

    /// <summary>
    /// An open connection to the database whose view is read instead, or null: the one found
    /// before, else (every <see cref="SearchEvery"/> collections) the first of the server's other
    /// databases, <c>postgres</c> first, where the view answers.
    /// </summary>
    private async Task<NpgsqlConnection?> ElsewhereAsync(PgScrape scrape)
    {
        if (openDatabase is null)
        {
            return null;
        }

        if (_statsDatabase is { } known && await TryOpenAsync(known, scrape.Token) is { } open)
        {
            return open;
        }

        if (_statsDatabase is not null)
        {
            _statsDatabase = null;
            _searchIn = 0;
        }

        if (_searchIn-- > 0)
        {
            return null;
        }

        _searchIn = SearchEvery - 1;
        var candidates = new List<string>();
        await scrape.QueryAsync($"""
            SELECT datname FROM pg_database
            WHERE datallowconn AND NOT datistemplate AND datname <> current_database()
            ORDER BY datname <> 'postgres', datname LIMIT {MaxCandidates}
            """, row => candidates.Add(row.GetString(0)));
        foreach (string candidate in candidates)
        {
            if (await TryOpenAsync(candidate, scrape.Token) is { } connection)
            {
                _statsDatabase = candidate;
                log($"database {_database}: pg_stat_statements is read in database {candidate}, where the extension is installed (this database's rows only)");
                return connection;
            }
        }

        return null;
    }

    /// <summary>A connection to <paramref name="database"/> if its pg_stat_statements view answers there; null otherwise.</summary>
    private async Task<NpgsqlConnection?> TryOpenAsync(string database, CancellationToken cancellationToken)
    {
        NpgsqlConnection? connection = null;
        try
        {
            connection = await openDatabase!(database, cancellationToken);
            await using NpgsqlCommand check = connection.CreateCommand();
            check.CommandText = "SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'";
            if (await check.ExecuteScalarAsync(cancellationToken) is null)
            {
                await connection.DisposeAsync();
                return null;
            }

            check.CommandText = "SELECT 1 FROM pg_stat_statements LIMIT 1";
            await check.ExecuteScalarAsync(cancellationToken);
            return connection;
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            // Not allowed to connect there, gone, or the view refuses this user: not a candidate.
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }

            return null;
        }
    }

    private void Report(PgScrape scrape, bool available, string? reason)
    {
        scrape.Batch.Set(_available, available ? 1 : 0);
        if (_wasAvailable != available)
        {
            log(available
                ? $"database {_database}: pg_stat_statements available; query metrics come from it"
                : $"database {_database}: pg_stat_statements unavailable, no query metrics from statistics: {reason}");
            _wasAvailable = available;
        }

        if (!available)
        {
            _firstRun = true; // when it comes back, start from a fresh baseline
        }
    }
}
