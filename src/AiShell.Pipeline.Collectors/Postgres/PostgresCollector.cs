using AiShell.Pipeline.Metrics;
using AiShell.Pipeline.Metrics.Flow;
using Npgsql;

namespace AiShell.Pipeline.Collectors.Postgres;

/// <summary>
/// Everything collected from one database: one connection per run from the target's own small data
/// source, then each view in turn. A connect failure is counted by reason, sets aishell_up 0 and
/// fails the run (the supervisor restarts the collector with backoff, which paces reconnects). A
/// view whose query fails while the connection stays up (statement timeout, permission) is counted
/// and the other views still run. A connection lost mid-run fails the run like a connect failure.
/// </summary>
public sealed class PostgresCollector : ICollector, IAsyncDisposable
{
    private readonly PostgresTargetOptions _options;
    private readonly NpgsqlDataSource _dataSource;
    private readonly TimeProvider _time;
    private readonly List<PostgresView> _views;
    private readonly MetricGroups _groups;
    private readonly Dictionary<string, NpgsqlDataSource> _siblings = new(StringComparer.Ordinal); // other databases of the server, by name
    private readonly Dictionary<PostgresView, (Series Duration, Series LastSuccess)> _viewSeries = [];
    private Series _up = null!;
    private MetricFamily _connectionErrors = null!;
    private MetricFamily _viewErrors = null!;

    public PostgresCollector(PostgresTargetOptions options, QuerySources querySources, Action<string> log, TimeProvider? time = null,
        MetricGroups? groups = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _groups = groups ?? new MetricGroups();
        _dataSource = PostgresDataSource.Create(options);
        _time = time ?? TimeProvider.System;
        _views =
        [
            new StatActivityView(),
            new StatDatabaseView(),
            new RelationSizesView(options.TopTables),
            new ReplicationView(),
            new LocksView(),
            new StatStatementsView(options.SlowQueryThresholds, querySources, log, OpenSiblingAsync),
        ];
        foreach (SqlMetric metric in options.SqlMetrics)
        {
            _views.Add(new SqlMetricsView(metric));
        }
    }

    public string Name => "postgres";

    public string Database => _options.Name;

    public void Register(MetricRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        _up = registry.Register(MetricCatalog.Up).WithLabels(_options.Name);
        _up.Set(0); // down until a collection succeeds: a target that never connects shows 0 from the first scrape
        _connectionErrors = registry.Register(MetricCatalog.ConnectionErrorsTotal);
        _viewErrors = registry.Register(MetricCatalog.PostgresViewErrorsTotal);
        MetricFamily duration = registry.Register(MetricCatalog.CollectorDurationSeconds);
        MetricFamily lastSuccess = registry.Register(MetricCatalog.CollectorLastSuccess);
        foreach (PostgresView view in _views)
        {
            view.Register(registry, _options.Name);
            _viewSeries[view] = (duration.WithLabels(view.Name, _options.Name), lastSuccess.WithLabels(view.Name, _options.Name));
        }
    }

    public async ValueTask CollectAsync(SampleBatchBuilder batch, CancellationToken cancellationToken)
    {
        NpgsqlConnection connection;
        try
        {
            connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or OperationCanceledException or System.Net.Sockets.SocketException)
        {
            string reason = ConnectionErrors.Classify(ex);
            _connectionErrors.WithLabels(_options.Name, reason).Add(1);
            _up.Set(0);
            throw new PostgresUnavailableException($"database {_options.Name}: cannot connect ({reason}): {ex.Message}", ex);
        }

        await using (connection)
        {
            try
            {
                foreach (PostgresView view in _views)
                {
                    if (view.Group is not { } group || _groups.IsOn(group))
                    {
                        await ScrapeViewAsync(view, new PgScrape(connection, batch, cancellationToken));
                    }
                }
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or OperationCanceledException)
            {
                _up.Set(0);
                throw new PostgresUnavailableException($"database {_options.Name}: collection failed: {ex.Message}", ex);
            }
        }

        _up.Set(1);
    }

    private async Task ScrapeViewAsync(PostgresView view, PgScrape scrape)
    {
        long started = _time.GetTimestamp();
        try
        {
            await view.ScrapeAsync(scrape);
        }
        catch (Exception ex) when (ex is PostgresException or SqlMetricException && scrape.Connection.FullState == System.Data.ConnectionState.Open)
        {
            string reason = ex switch
            {
                PostgresException { SqlState: "57014" } => "timeout",
                PostgresException { SqlState: "42501" } => "permission",
                SqlMetricException => "columns",
                _ => "error",
            };
            _viewErrors.WithLabels(_options.Name, view.Name, reason).Add(1);
            return;
        }

        (Series duration, Series lastSuccess) = _viewSeries[view];
        scrape.Batch.Set(duration, _time.GetElapsedTime(started).TotalSeconds);
        scrape.Batch.Set(lastSuccess, _time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0);
    }

    /// <summary>A run that failed or was abandoned (timeout) means the database is not answering: up is 0 now.</summary>
    public void OnRunFailed() => _up.Set(0);

    /// <summary>
    /// A connection to another database of the same server, with the same credentials (where
    /// pg_stat_statements may be installed when this database lacks it). Runs are one at a time,
    /// so the data sources need no lock.
    /// </summary>
    private ValueTask<NpgsqlConnection> OpenSiblingAsync(string database, CancellationToken cancellationToken)
    {
        if (!_siblings.TryGetValue(database, out NpgsqlDataSource? source))
        {
            source = PostgresDataSource.Create(_options with { ConnectionString = PostgresDiscovery.ForDatabase(_options.ConnectionString, database) });
            _siblings[database] = source;
        }

        return source.OpenConnectionAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (NpgsqlDataSource sibling in _siblings.Values)
        {
            await sibling.DisposeAsync();
        }

        await _dataSource.DisposeAsync();
    }
}

/// <summary>The database could not be reached or the connection broke during a run.</summary>
public sealed class PostgresUnavailableException : Exception
{
    public PostgresUnavailableException()
    {
    }

    public PostgresUnavailableException(string message)
        : base(message)
    {
    }

    public PostgresUnavailableException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
