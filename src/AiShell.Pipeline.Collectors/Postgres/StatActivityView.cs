using AiShell.Pipeline.Metrics;
using AiShell.Pipeline.Metrics.Flow;

namespace AiShell.Pipeline.Collectors.Postgres;

/// <summary>pg_stat_activity and the connection limits: open connections, their states, the limit.</summary>
internal sealed class StatActivityView : PostgresView
{
    private const string StatesSql = """
        SELECT coalesce(state, 'unknown'), count(*)
        FROM pg_stat_activity
        WHERE datname = current_database() AND backend_type = 'client backend'
        GROUP BY 1
        """;

    private const string LimitSql = """
        SELECT d.datconnlimit,
               current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int
        FROM pg_database d WHERE d.datname = current_database()
        """;

    private readonly SeriesTracker _states = new();
    private Series _active = null!;
    private Series _poolSize = null!;
    private MetricFamily _byState = null!;
    private string _database = "";

    public override string Name => "pg_stat_activity";

    public override MetricGroup? Group => MetricGroup.Connections;

    public override void Register(MetricRegistry registry, string database)
    {
        _database = database;
        _active = registry.Register(MetricCatalog.ConnectionsActive).WithLabels(database, "server");
        _poolSize = registry.Register(MetricCatalog.ConnectionsPoolSize).WithLabels(database, "server");
        _byState = registry.Register(MetricCatalog.ConnectionsByState);
    }

    public override async Task ScrapeAsync(PgScrape scrape)
    {
        double total = 0;
        await scrape.QueryAsync(StatesSql, row =>
        {
            double count = row.GetInt64(1);
            total += count;
            _states.Set(scrape.Batch, _byState.WithLabels(_database, row.GetString(0)), count);
        });
        _states.Finish(scrape.Batch);
        scrape.Batch.Set(_active, total);

        await scrape.QueryAsync(LimitSql, row =>
        {
            int serverLimit = row.GetInt32(1);
            int databaseLimit = row.GetInt32(0);
            scrape.Batch.Set(_poolSize, databaseLimit >= 0 ? Math.Min(databaseLimit, serverLimit) : serverLimit);
        });
    }
}
