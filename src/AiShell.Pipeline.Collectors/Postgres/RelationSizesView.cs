using AiShell.Pipeline.Metrics;
using AiShell.Pipeline.Metrics.Flow;
using Npgsql;

namespace AiShell.Pipeline.Collectors.Postgres;

/// <summary>
/// The N largest tables and indexes (N = top_tables), schema-qualified. Bounded so that a database
/// with 50,000 tables exports N series, not 50,000; tables that leave the top N are cleared.
/// </summary>
internal sealed class RelationSizesView(int topN) : PostgresView
{
    private const string Excluded = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'";

    private const string TablesSql = $"""
        SELECT n.nspname || '.' || c.relname, pg_table_size(c.oid)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'm') AND {Excluded}
        ORDER BY 2 DESC, 1 LIMIT @n
        """;

    private const string IndexesSql = $"""
        SELECT n.nspname || '.' || t.relname, i.relname, pg_relation_size(i.oid)
        FROM pg_index x
        JOIN pg_class i ON i.oid = x.indexrelid
        JOIN pg_class t ON t.oid = x.indrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace
        WHERE {Excluded}
        ORDER BY 3 DESC, 1, 2 LIMIT @n
        """;

    private readonly SeriesTracker _tableSeries = new();
    private readonly SeriesTracker _indexSeries = new();
    private MetricFamily _tables = null!;
    private MetricFamily _indexes = null!;
    private string _database = "";

    public override string Name => "pg_relation_size";

    public override MetricGroup? Group => MetricGroup.Performance;

    public override void Register(MetricRegistry registry, string database)
    {
        _database = database;
        _tables = registry.Register(MetricCatalog.TableSizeBytes);
        _indexes = registry.Register(MetricCatalog.IndexSizeBytes);
    }

    public override async Task ScrapeAsync(PgScrape scrape)
    {
        if (topN > 0)
        {
            await scrape.QueryAsync(TablesSql,
                row => _tableSeries.Set(scrape.Batch, _tables.WithLabels(_database, row.GetString(0)), row.GetInt64(1)),
                new NpgsqlParameter("n", topN));
            await scrape.QueryAsync(IndexesSql,
                row => _indexSeries.Set(scrape.Batch, _indexes.WithLabels(_database, row.GetString(0), row.GetString(1)), row.GetInt64(2)),
                new NpgsqlParameter("n", topN));
        }

        _tableSeries.Finish(scrape.Batch);
        _indexSeries.Finish(scrape.Batch);
    }
}
