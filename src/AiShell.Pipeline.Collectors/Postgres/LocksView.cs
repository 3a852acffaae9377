using AiShell.Pipeline.Metrics;
using AiShell.Pipeline.Metrics.Flow;

namespace AiShell.Pipeline.Collectors.Postgres;

/// <summary>pg_locks of the connected database by mode, granted or waiting. Table-level modes not held are 0.</summary>
internal sealed class LocksView : PostgresView
{
    private const string Sql = """
        SELECT mode, granted, count(*)
        FROM pg_locks
        WHERE database = (SELECT oid FROM pg_database WHERE datname = current_database())
        GROUP BY 1, 2
        """;

    /// <summary>The eight table-level lock modes, always reported (0 when none is held).</summary>
    internal static readonly string[] Modes =
    [
        "AccessShareLock", "RowShareLock", "RowExclusiveLock", "ShareUpdateExclusiveLock",
        "ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock",
    ];

    private readonly Dictionary<(string Mode, bool Granted), double> _counts = [];
    private MetricFamily _locks = null!;
    private string _database = "";

    public override string Name => "pg_locks";

    public override MetricGroup? Group => MetricGroup.Performance;

    public override void Register(MetricRegistry registry, string database)
    {
        _database = database;
        _locks = registry.Register(MetricCatalog.Locks);
    }

    public override async Task ScrapeAsync(PgScrape scrape)
    {
        _counts.Clear();
        foreach (string mode in Modes)
        {
            _counts[(mode, true)] = 0;
            _counts[(mode, false)] = 0;
        }

        await scrape.QueryAsync(Sql, row => _counts[(row.GetString(0), row.GetBoolean(1))] = row.GetInt64(2));
        foreach (((string mode, bool granted), double count) in _counts)
        {
            scrape.Batch.Set(_locks.WithLabels(_database, mode, granted ? "granted" : "waiting"), count);
        }
    }
}
