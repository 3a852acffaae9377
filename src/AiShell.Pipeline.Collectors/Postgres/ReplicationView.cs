using AiShell.Pipeline.Metrics;
using AiShell.Pipeline.Metrics.Flow;

namespace AiShell.Pipeline.Collectors.Postgres;

/// <summary>
/// Replication lag. On a primary: per standby from pg_stat_replication (seconds and bytes). On a
/// standby: its own replay lag. NULL lags (a standby that has not replayed anything yet) emit nothing.
/// </summary>
internal sealed class ReplicationView : PostgresView
{
    private const string RecoverySql = """
        SELECT pg_is_in_recovery(), EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8
        """;

    private const string StandbysSql = """
        SELECT coalesce(nullif(application_name, ''), client_addr::text, 'pid' || pid::text),
               EXTRACT(EPOCH FROM replay_lag)::float8,
               pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::float8
        FROM pg_stat_replication
        """;

    private readonly SeriesTracker _standbys = new();
    private MetricFamily _lagSeconds = null!;
    private MetricFamily _lagBytes = null!;
    private Series _replayLag = null!;
    private string _database = "";

    public override string Name => "pg_stat_replication";

    public override MetricGroup? Group => MetricGroup.Performance;

    public override void Register(MetricRegistry registry, string database)
    {
        _database = database;
        _lagSeconds = registry.Register(MetricCatalog.ReplicationLagSeconds);
        _lagBytes = registry.Register(MetricCatalog.ReplicationLagBytes);
        _replayLag = registry.Register(MetricCatalog.ReplicationReplayLagSeconds).WithLabels(database);
    }

    public override async Task ScrapeAsync(PgScrape scrape)
    {
        bool inRecovery = false;
        double? replayLag = null;
        await scrape.QueryAsync(RecoverySql, row =>
        {
            inRecovery = row.GetBoolean(0);
            replayLag = PgScrape.Double(row, 1);
        });

        if (inRecovery && replayLag is { } lag)
        {
            scrape.Batch.Set(_replayLag, Math.Max(0, lag));
        }
        else
        {
            scrape.Batch.Clear(_replayLag);
        }

        if (!inRecovery)
        {
            await scrape.QueryAsync(StandbysSql, row =>
            {
                string standby = row.GetString(0);
                if (PgScrape.Double(row, 1) is { } seconds)
                {
                    _standbys.Set(scrape.Batch, _lagSeconds.WithLabels(_database, standby), seconds);
                }

                if (PgScrape.Double(row, 2) is { } bytes)
                {
                    _standbys.Set(scrape.Batch, _lagBytes.WithLabels(_database, standby), bytes);
                }
            });
        }

        _standbys.Finish(scrape.Batch);
    }
}
