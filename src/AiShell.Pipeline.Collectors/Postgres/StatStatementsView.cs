using AiShell.Pipeline.Metrics;
using AiShell.Pipeline.Metrics.Pipeline;
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
/// </summary>
internal sealed class StatStatementsView(IReadOnlyList<double> thresholds, QuerySources querySources, Action<string> log) : PostgresView
{
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
        if (!await IsAvailableAsync(scrape))
        {
            return;
        }

        string time = scrape.MajorVersion >= 13 ? "total_exec_time" : "total_time";
        string topLevel = scrape.MajorVersion >= 14 ? "AND s.toplevel" : "";
        string sql = $"""
            SELECT s.userid::int8, s.queryid, s.calls, s.{time}, s.query
            FROM pg_stat_statements s
            WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND s.queryid IS NOT NULL {topLevel}
            """;

        bool count = querySources.StatementsCount(_database) && !_firstRun;
        _seen.Clear();
        await scrape.QueryAsync(sql, row => Fold(scrape.Batch, row, count));
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

    private async Task<bool> IsAvailableAsync(PgScrape scrape)
    {
        bool available = false;
        string? reason = null;
        try
        {
            await scrape.QueryAsync("SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements'",
                row => available = row.GetInt64(0) > 0);
            if (!available)
            {
                reason = "the extension is not installed in this database (CREATE EXTENSION pg_stat_statements)";
            }
            else
            {
                await scrape.QueryAsync("SELECT 1 FROM pg_stat_statements LIMIT 1", _ => { });
            }
        }
        catch (PostgresException ex) when (ex.SqlState is "55000" or "42501" or "42P01")
        {
            // 55000: not in shared_preload_libraries; 42501: no permission; 42P01: view missing.
            available = false;
            reason = ex.MessageText;
        }

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

        return available;
    }
}
