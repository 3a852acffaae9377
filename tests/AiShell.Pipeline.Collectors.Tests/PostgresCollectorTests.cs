using AiShell.Pipeline.Collectors.Postgres;
using AiShell.Pipeline.Metrics;
using AiShell.Pipeline.Metrics.Flow;
using AiShell.Pipeline.Tests.Shared;

namespace AiShell.Pipeline.Collectors.Tests;

/// <summary>The PostgreSQL collector against a real server: values must equal what direct SQL returns.</summary>
public sealed class PostgresCollectorTests
{
    private static async Task<(PostgresServer Server, PostgresTargetOptions Options)> TargetAsync(
        string name = "app1", TimeSpan? timeout = null, IReadOnlyList<SqlMetric>? sql = null, IReadOnlyList<double>? thresholds = null)
    {
        PostgresServer server = await PostgresServer.GetAsync();
        return (server, new PostgresTargetOptions
        {
            Name = name,
            ConnectionString = server.ConnectionString,
            StatementTimeout = timeout ?? TimeSpan.FromSeconds(5),
            TopTables = 50,
            SqlMetrics = sql ?? [],
            SlowQueryThresholds = thresholds ?? [1],
        });
    }

    [Fact]
    public async Task TableAndIndexSizes_EqualDirectSql()
    {
        (PostgresServer server, PostgresTargetOptions options) = await TargetAsync();
        await server.ExecuteAsync("""
            DROP TABLE IF EXISTS sized_table;
            CREATE TABLE sized_table (id int PRIMARY KEY, payload text);
            INSERT INTO sized_table SELECT g, repeat('x', 200) FROM generate_series(1, 5000) g;
            """);
        long tableBytes = await server.ScalarAsync<long>("SELECT pg_table_size('public.sized_table')");
        long indexBytes = await server.ScalarAsync<long>("SELECT pg_relation_size('public.sized_table_pkey')");

        await using var pg = new PostgresCollectorHarness(options);
        await pg.RunAsync();
        Assert.Equal(tableBytes, pg.Value("table_size_bytes", "app1", "public.sized_table"));
        Assert.Equal(indexBytes, pg.Value("index_size_bytes", "app1", "public.sized_table", "sized_table_pkey"));
        Assert.True(tableBytes > 1_000_000);
    }

    [Fact]
    public async Task TopTables_BoundsTheSeries_AndTablesThatLeaveTheTopAreCleared()
    {
        (PostgresServer server, PostgresTargetOptions options) = await TargetAsync();
        await server.ExecuteAsync("""
            DROP TABLE IF EXISTS top_a; DROP TABLE IF EXISTS top_b;
            CREATE TABLE top_a AS SELECT repeat('a', 100) AS v FROM generate_series(1, 20000);
            CREATE TABLE top_b AS SELECT repeat('b', 100) AS v FROM generate_series(1, 10);
            """);
        await using var pg = new PostgresCollectorHarness(options with { TopTables = 1 });
        await pg.RunAsync();
        Assert.Single(pg.Registry.Find("aishell_table_size_bytes")!.AllSeries(), s => s.HasValue);

        await server.ExecuteAsync("DROP TABLE top_a");
        await pg.RunAsync();
        Assert.Null(pg.Value("table_size_bytes", "app1", "public.top_a")); // cleared, not kept stale
    }

    [Fact]
    public async Task StatDatabase_Connections_AndLimits_MatchTheServer()
    {
        (PostgresServer server, PostgresTargetOptions options) = await TargetAsync();
        await using var pg = new PostgresCollectorHarness(options);
        await pg.RunAsync();
        await pg.RunAsync();

        Assert.Equal(1, pg.Value("up", "app1"));
        long size = await server.ScalarAsync<long>("SELECT pg_database_size(current_database())");
        Assert.InRange(pg.Value("database_size_bytes", "app1")!.Value, size * 0.9, size * 1.1);
        Assert.True(pg.Value("transactions_total", "app1", "commit") > 0);
        Assert.NotNull(pg.Value("tuples_total", "app1", "fetched"));
        Assert.NotNull(pg.Value("deadlocks_total", "app1"));
        Assert.InRange(pg.Value("cache_hit_rate", "app1")!.Value, 0, 1);
        Assert.True(pg.Value("connections_active", "app1", "server") >= 1); // the collector's own connection
        int maxConnections = int.Parse(await server.ScalarAsync<string>("SHOW max_connections"), System.Globalization.CultureInfo.InvariantCulture);
        int reserved = int.Parse(await server.ScalarAsync<string>("SHOW superuser_reserved_connections"), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(maxConnections - reserved, pg.Value("connections_pool_size", "app1", "server"));
        Assert.True(pg.Value("connections_by_state", "app1", "active") >= 1);
        foreach (string mode in LocksView.Modes)
        {
            Assert.NotNull(pg.Value("locks", "app1", mode, "granted"));
            Assert.NotNull(pg.Value("locks", "app1", mode, "waiting"));
        }
    }

    [Fact]
    public async Task OnAPrimaryWithoutStandbys_ReplicationSeries_AreAbsentRatherThanZero()
    {
        (_, PostgresTargetOptions options) = await TargetAsync();
        await using var pg = new PostgresCollectorHarness(options);
        await pg.RunAsync();
        string text = pg.Scrape();
        Assert.DoesNotContain("aishell_replication_lag_seconds", text, StringComparison.Ordinal);
        Assert.DoesNotContain("aishell_replication_replay_lag_seconds", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replication_WithARealStandby_PrimaryReportsLagBytes_AndTheStandbyItsReplayLag()
    {
        PostgresServer server = await PostgresServer.GetAsync();
        string standby = await server.StartStandbyAsync();
        try
        {
            await server.ExecuteAsync("CREATE TABLE IF NOT EXISTS replicated (v int); INSERT INTO replicated VALUES (1);");
            for (int i = 0; i < 100 && await server.ScalarAsync<long>("SELECT count(*) FROM pg_stat_replication WHERE replay_lsn IS NOT NULL") == 0; i++)
            {
                await Task.Delay(100);
            }

            await using var primary = new PostgresCollectorHarness(new PostgresTargetOptions { Name = "primary", ConnectionString = server.ConnectionString });
            await primary.RunAsync();
            Assert.InRange(primary.Value("replication_lag_bytes", "primary", "aishell_standby")!.Value, 0, 64 * 1024 * 1024);
            Assert.Null(primary.Value("replication_replay_lag_seconds", "primary")); // a primary replays nothing

            await using var replica = new PostgresCollectorHarness(new PostgresTargetOptions { Name = "replica", ConnectionString = standby });
            for (int i = 0; i < 100 && replica.Value("replication_replay_lag_seconds", "replica") is null; i++)
            {
                await server.ExecuteAsync("INSERT INTO replicated VALUES (2)"); // something to replay
                await Task.Delay(100);
                await replica.RunAsync();
            }

            Assert.InRange(replica.Value("replication_replay_lag_seconds", "replica")!.Value, 0, 60);
            Assert.Equal(1, replica.Value("up", "replica"));
            Assert.DoesNotContain("aishell_replication_lag_bytes{database=\"replica\"", replica.Scrape(), StringComparison.Ordinal);
        }
        finally
        {
            await server.ControlAsync("standby-destroy");
        }
    }

    [Fact]
    public async Task StatStatements_AWorkloadMovesQueryTotal_TheHistogram_AndSlowQueries()
    {
        (PostgresServer server, PostgresTargetOptions options) = await TargetAsync("stmts", thresholds: [0.2, 5]);
        await server.ExecuteAsync("CREATE TABLE IF NOT EXISTS workload (id serial PRIMARY KEY, v int)");
        await using var pg = new PostgresCollectorHarness(options);
        await pg.RunAsync(); // baseline
        Assert.Equal(1, pg.Value("postgres_stat_statements_available", "stmts"));
        double selectsBefore = pg.Value("query_total", "stmts", "SELECT", "success")!.Value;
        long histogramBefore = pg.Series("query_duration_seconds", "stmts", "SELECT").Count;

        await using (var conn = await server.OpenAsync())
        {
            for (int i = 0; i < 50; i++)
            {
                await using var select = new Npgsql.NpgsqlCommand("SELECT v FROM workload WHERE id = $1", conn);
                select.Parameters.AddWithValue(i);
                await select.ExecuteScalarAsync();
            }

            for (int i = 0; i < 10; i++)
            {
                await using var insert = new Npgsql.NpgsqlCommand("INSERT INTO workload (v) VALUES ($1)", conn);
                insert.Parameters.AddWithValue(i);
                await insert.ExecuteNonQueryAsync();
            }

            await using var slow = new Npgsql.NpgsqlCommand("SELECT pg_sleep(0.3)", conn);
            await slow.ExecuteNonQueryAsync();
        }

        await pg.RunAsync();
        Assert.True(pg.Value("query_total", "stmts", "SELECT", "success") - selectsBefore >= 51);
        Assert.True(pg.Value("query_total", "stmts", "INSERT", "success") >= 10);
        Assert.True(pg.Series("query_duration_seconds", "stmts", "SELECT").Count - histogramBefore >= 51);
        Assert.True(pg.Value("slow_query_total", "stmts", "0.2") >= 1);
        Assert.Equal(0, pg.Value("slow_query_total", "stmts", "5"));
    }

    /// <summary>
    /// The statements query of each PostgreSQL version the exporter supports (12-17), run against the
    /// real view: the version's columns are the ones asked for. The server here is one version; the
    /// older shapes are checked by asking the view for exactly their columns through a query that
    /// renames this version's columns the way they were named then.
    /// </summary>
    [Theory]
    [InlineData(12, "total_time", false)]
    [InlineData(13, "total_exec_time", false)]
    [InlineData(14, "total_exec_time", true)]
    [InlineData(17, "total_exec_time", true)]
    public async Task StatementsQuery_OfEachVersion_NamesThatVersionsColumns(int version, string timeColumn, bool topLevel)
    {
        string sql = StatStatementsView.StatementsSql(version);
        Assert.Contains($"s.{timeColumn}", sql, StringComparison.Ordinal);
        Assert.Equal(topLevel, sql.Contains("s.toplevel", StringComparison.Ordinal));

        // The view as that version had it, built from this server's: the query must run on it.
        PostgresServer server = await PostgresServer.GetAsync();
        string asThen = $"(SELECT userid, dbid, queryid, calls, total_exec_time AS {timeColumn}, query{(topLevel ? ", toplevel" : "")} FROM pg_stat_statements)";
        string rewritten = sql.Replace("FROM pg_stat_statements s", $"FROM {asThen} s", StringComparison.Ordinal).Replace("@dbid", "0", StringComparison.Ordinal);
        Assert.Equal(0L, await server.ScalarAsync<long>($"SELECT count(*) FROM ({rewritten}) q"));
    }

    /// <summary>
    /// The extension created once, in postgres, not in the application database: the view is read
    /// there, and only this database's statements count.
    /// </summary>
    [Fact]
    public async Task StatStatements_InstalledOnlyInAnotherDatabase_IsReadThere_ForThisDatabasesRowsOnly()
    {
        PostgresServer server = await PostgresServer.GetAsync();
        string database = $"nostats_{Guid.NewGuid():N}"[..20];
        await server.ExecuteAsync("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", "postgres");
        await server.ExecuteAsync($"CREATE DATABASE {database}");
        try
        {
            Assert.Equal(0L, await server.ScalarAsync<long>("SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements'", database));
            var options = new PostgresTargetOptions
            {
                Name = "nostats",
                ConnectionString = new Npgsql.NpgsqlConnectionStringBuilder(server.ConnectionString) { Database = database }.ConnectionString,
                SlowQueryThresholds = [1],
            };
            await using (var pg = new PostgresCollectorHarness(options))
            {
                await pg.RunAsync(); // the baseline
                Assert.Equal(1, pg.Value("postgres_stat_statements_available", "nostats"));
                Assert.Contains(pg.Logs, l => l.Contains("pg_stat_statements is read in database postgres", StringComparison.Ordinal));
                double before = pg.Value("query_total", "nostats", "SELECT", "success")!.Value;
                for (int i = 0; i < 5; i++)
                {
                    await server.ExecuteAsync($"SELECT {i} AS nostats_workload", database);
                }

                for (int i = 0; i < 100; i++)
                {
                    await server.ExecuteAsync($"SELECT {i} AS other_database_workload"); // aishell_test: not this database
                }

                await pg.RunAsync();
                double counted = pg.Value("query_total", "nostats", "SELECT", "success")!.Value - before;
                Assert.InRange(counted, 5, 60); // its own five, and the collector's own statements there; not the other hundred
            }
        }
        finally
        {
            await server.ExecuteAsync($"DROP DATABASE IF EXISTS {database} WITH (FORCE)");
        }
    }

    [Fact]
    public async Task StatStatements_WhenQueryEventsOwnTheDatabase_CountsNothing_AndAutoTakesOverAgainAfterTheQuietCollections()
    {
        (PostgresServer server, PostgresTargetOptions options) = await TargetAsync("evented");
        var sources = new QuerySources();
        var registry = new MetricRegistry(new MetricOptions());
        Series summary = registry.Register(MetricCatalog.QueryDurationSummary).WithLabels("evented");
        await using var pg = new PostgresCollectorHarness(options, sources);
        await pg.RunAsync();
        sources.MarkEventFed("evented", summary);
        long now = Series.NoTimestamp;
        summary.Observe(0.01, ref now); // a query event arrived
        double before = pg.Value("query_total", "evented", "SELECT", "success")!.Value;
        await server.ExecuteAsync("SELECT 1; SELECT 2;");
        await pg.RunAsync();
        Assert.Equal(before, pg.Value("query_total", "evented", "SELECT", "success"));

        for (int i = 0; i < QuerySources.QuietCollections; i++)
        {
            await pg.RunAsync(); // quiet: no event since
        }

        await server.ExecuteAsync("SELECT 3; SELECT 4;");
        await pg.RunAsync();
        Assert.True(pg.Value("query_total", "evented", "SELECT", "success") >= before + 2, "auto went back to pg_stat_statements");
    }

    [Fact]
    public async Task StatStatements_WithQuerySourceEvents_NeverCounts_AndWithStatements_AlwaysDoes()
    {
        (PostgresServer server, PostgresTargetOptions options) = await TargetAsync("modes");
        var sources = new QuerySources();
        sources.SetMode("modes", QuerySource.Events);
        await using var pg = new PostgresCollectorHarness(options, sources);
        await pg.RunAsync();
        double before = pg.Value("query_total", "modes", "SELECT", "success")!.Value;
        await server.ExecuteAsync("SELECT 1; SELECT 2;");
        await pg.RunAsync();
        Assert.Equal(before, pg.Value("query_total", "modes", "SELECT", "success"));

        sources.SetMode("modes", QuerySource.Statements);
        sources.MarkEventFed("modes", new MetricRegistry(new MetricOptions()).Register(MetricCatalog.QueryDurationSummary).WithLabels("modes"));
        Assert.True(sources.RefusesEvents("modes"));
        Assert.False(sources.RefusesEvents("other"));
        await server.ExecuteAsync("SELECT 1; SELECT 2;");
        await pg.RunAsync();
        Assert.True(pg.Value("query_total", "modes", "SELECT", "success") >= before + 2);
    }

    [Fact]
    public async Task SqlMetric_MapsLabelColumnsAndValue_NullValueEmitsNothing()
    {
        var descriptor = new MetricDescriptor("business_transactions", "Total business transactions", MetricType.Gauge, ["database", "type", "status"]);
        const string query = """
            SELECT * FROM (VALUES ('card', 'ok', 5.0), ('cash', 'ok', NULL), ('card', 'failed', 2.0)) AS t(type, status, value)
            """;
        (_, PostgresTargetOptions options) = await TargetAsync(sql: [new SqlMetric(descriptor, query, ["type", "status"])]);
        await using var pg = new PostgresCollectorHarness(options);
        await pg.RunAsync();
        Assert.Equal(5, pg.Value("business_transactions", "app1", "card", "ok"));
        Assert.Equal(2, pg.Value("business_transactions", "app1", "card", "failed"));
        Assert.Null(pg.Value("business_transactions", "app1", "cash", "ok"));
    }

    [Fact]
    public async Task SqlMetric_StatementTimeout_IsCounted_AndTheOtherViewsStillCollect()
    {
        var descriptor = new MetricDescriptor("slow_kpi", "slow", MetricType.Gauge, ["database"]);
        var badColumns = new MetricDescriptor("bad_kpi", "bad", MetricType.Gauge, ["database"]);
        (_, PostgresTargetOptions options) = await TargetAsync("timeouts", timeout: TimeSpan.FromMilliseconds(300), sql:
        [
            new SqlMetric(descriptor, "SELECT pg_sleep(3) AS value", []),
            new SqlMetric(badColumns, "SELECT 1 AS not_value", []),
        ]);
        await using var pg = new PostgresCollectorHarness(options);
        await pg.RunAsync();
        Assert.Equal(1, pg.Value("postgres_view_errors_total", "timeouts", "sql:slow_kpi", "timeout"));
        Assert.Equal(1, pg.Value("postgres_view_errors_total", "timeouts", "sql:bad_kpi", "columns"));
        Assert.Equal(1, pg.Value("up", "timeouts"));
        Assert.NotNull(pg.Value("database_size_bytes", "timeouts"));
        Assert.Null(pg.Value("slow_kpi", "timeouts"));
    }

    [Fact]
    public async Task ClosedPort_FailsTheRun_UpIsZero_AndTheRefusalIsCounted()
    {
        int port = FreePort();
        var options = new PostgresTargetOptions
        {
            Name = "down",
            ConnectionString = $"Host=127.0.0.1;Port={port};Username=postgres;Password=secret-password-123;Database=x",
        };
        await using var pg = new PostgresCollectorHarness(options);
        Assert.Equal(0, pg.Value("up", "down")); // exposed as 0 before any run
        var ex = await Assert.ThrowsAsync<PostgresUnavailableException>(pg.RunAsync);
        Assert.DoesNotContain("secret-password-123", ex.ToString(), StringComparison.Ordinal);
        Assert.Equal(0, pg.Value("up", "down"));
        Assert.Equal(1, pg.Value("connection_errors_total", "down", "connection_refused"));
    }

    [Fact]
    public async Task WrongPassword_IsCountedBySqlState_AndNeverShown()
    {
        PostgresServer server = await PostgresServer.GetAsync();
        var options = new PostgresTargetOptions
        {
            Name = "badauth",
            ConnectionString = server.ConnectionStringWithoutPassword,
            Password = "definitely-wrong-pw-42",
        };
        await using var pg = new PostgresCollectorHarness(options);
        var ex = await Assert.ThrowsAsync<PostgresUnavailableException>(pg.RunAsync);
        Assert.Equal(1, pg.Value("connection_errors_total", "badauth", "28P01"));
        Assert.DoesNotContain("definitely-wrong-pw-42", ex.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(server.Password, ex.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Discovery_ListsConnectableDatabases_WithIncludeAndExclude()
    {
        PostgresServer server = await PostgresServer.GetAsync();
        await server.ExecuteAsync("DROP DATABASE IF EXISTS disc_alpha");
        await server.ExecuteAsync("DROP DATABASE IF EXISTS disc_beta");
        await server.ExecuteAsync("CREATE DATABASE disc_alpha");
        await server.ExecuteAsync("CREATE DATABASE disc_beta");
        var options = new PostgresTargetOptions { Name = "server", ConnectionString = server.ConnectionString };
        List<string> found = await PostgresDiscovery.DiscoverAsync(options, ["disc_*"], ["*beta"], CancellationToken.None);
        Assert.Equal(["disc_alpha"], found);
        List<string> all = await PostgresDiscovery.DiscoverAsync(options, [], [], CancellationToken.None);
        Assert.Contains("postgres", all);
        Assert.DoesNotContain("template0", all);
        Assert.DoesNotContain("template1", all);
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
