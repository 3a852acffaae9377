using AiShell.Pipeline.Metrics;
using AiShell.Pipeline.Metrics.Flow;
using Npgsql;

namespace AiShell.Pipeline.Collectors.Postgres;

/// <summary>pg_stat_database for the connected database: cache, size, transactions, tuples, deadlocks, temp files.</summary>
internal sealed class StatDatabaseView : PostgresView
{
    private const string Sql = """
        SELECT blks_hit, blks_read, pg_database_size(datname), xact_commit, xact_rollback,
               tup_returned, tup_fetched, tup_inserted, tup_updated, tup_deleted,
               deadlocks, temp_bytes, temp_files
        FROM pg_stat_database WHERE datname = current_database()
        """;

    private static readonly string[] Operations = ["returned", "fetched", "inserted", "updated", "deleted"];
    private readonly Series[] _tuples = new Series[5];
    private Series _cacheHitRate = null!, _size = null!, _commits = null!, _rollbacks = null!;
    private Series _deadlocks = null!, _tempBytes = null!, _tempFiles = null!;
    private (double Hit, double Read)? _previousBlocks;

    public override string Name => "pg_stat_database";

    public override MetricGroup? Group => MetricGroup.Performance;

    public override void Register(MetricRegistry registry, string database)
    {
        _cacheHitRate = registry.Register(MetricCatalog.CacheHitRate).WithLabels(database);
        _size = registry.Register(MetricCatalog.DatabaseSizeBytes).WithLabels(database);
        MetricFamily transactions = registry.Register(MetricCatalog.TransactionsTotal);
        _commits = transactions.WithLabels(database, "commit");
        _rollbacks = transactions.WithLabels(database, "rollback");
        MetricFamily tuples = registry.Register(MetricCatalog.TuplesTotal);
        for (int i = 0; i < Operations.Length; i++)
        {
            _tuples[i] = tuples.WithLabels(database, Operations[i]);
        }

        _deadlocks = registry.Register(MetricCatalog.DeadlocksTotal).WithLabels(database);
        _tempBytes = registry.Register(MetricCatalog.TempBytesTotal).WithLabels(database);
        _tempFiles = registry.Register(MetricCatalog.TempFilesTotal).WithLabels(database);
    }

    public override Task ScrapeAsync(PgScrape scrape) => scrape.QueryAsync(Sql, row =>
    {
        SetIfNotNull(scrape, row, 2, _size);
        SetIfNotNull(scrape, row, 3, _commits);
        SetIfNotNull(scrape, row, 4, _rollbacks);
        for (int i = 0; i < _tuples.Length; i++)
        {
            SetIfNotNull(scrape, row, 5 + i, _tuples[i]);
        }

        SetIfNotNull(scrape, row, 10, _deadlocks);
        SetIfNotNull(scrape, row, 11, _tempBytes);
        SetIfNotNull(scrape, row, 12, _tempFiles);

        if (PgScrape.Double(row, 0) is { } hit && PgScrape.Double(row, 1) is { } read)
        {
            if (CacheHitRatio(_previousBlocks, hit, read) is { } ratio)
            {
                scrape.Batch.Set(_cacheHitRate, ratio);
            }

            _previousBlocks = (hit, read);
        }
    });

    /// <summary>
    /// Over the interval since the previous reading when blocks were accessed in it; on the first
    /// reading (or after a stats reset) over everything since the statistics were reset. Null when
    /// no block was ever accessed: nothing is emitted rather than an invented ratio.
    /// </summary>
    internal static double? CacheHitRatio((double Hit, double Read)? previous, double hit, double read)
    {
        if (previous is { } p && hit >= p.Hit && read >= p.Read)
        {
            double dh = hit - p.Hit, dr = read - p.Read;
            return dh + dr > 0 ? dh / (dh + dr) : null;
        }

        return hit + read > 0 ? hit / (hit + read) : null;
    }

    private static void SetIfNotNull(PgScrape scrape, NpgsqlDataReader row, int ordinal, Series series)
    {
        if (PgScrape.Double(row, ordinal) is { } value)
        {
            scrape.Batch.Set(series, value);
        }
        else
        {
            scrape.Batch.Clear(series);
        }
    }
}
