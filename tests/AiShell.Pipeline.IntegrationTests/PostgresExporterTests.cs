using System.Diagnostics;
using System.Net;
using AiShell.Pipeline.IntegrationTests.Harness;
using AiShell.Pipeline.Tests.Shared;

namespace AiShell.Pipeline.IntegrationTests;

/// <summary>
/// The native binary with two databases configured, one of them unreachable, against a real
/// PostgreSQL. Runs alone: one test stops and restarts the shared server.
/// </summary>
[Collection(ServerControlCollection.Name)]
public sealed class PostgresExporterTests
{
    private static readonly string[] ReachableSeries =
    [
        "aishell_up{database=\"app1\",team=\"billing\"} 1",
        "aishell_connections_active{database=\"app1\",source=\"server\",team=\"billing\"}",
        "aishell_connections_pool_size{database=\"app1\",source=\"server\",team=\"billing\"}",
        "aishell_cache_hit_rate{database=\"app1\",team=\"billing\"}",
        "aishell_database_size_bytes{database=\"app1\",team=\"billing\"}",
        "aishell_table_size_bytes{database=\"app1\",table=\"public.exporter_orders\",team=\"billing\"}",
        "aishell_index_size_bytes{database=\"app1\",table=\"public.exporter_orders\",index=\"exporter_orders_pkey\",team=\"billing\"}",
        "aishell_transactions_total{database=\"app1\",result=\"commit\",team=\"billing\"}",
        "aishell_tuples_total{database=\"app1\",operation=\"inserted\",team=\"billing\"}",
        "aishell_deadlocks_total{database=\"app1\",team=\"billing\"}",
        "aishell_temp_bytes_total{database=\"app1\",team=\"billing\"}",
        "aishell_locks{database=\"app1\",mode=\"AccessShareLock\",state=\"granted\",team=\"billing\"}",
        "aishell_query_total{database=\"app1\",type=\"SELECT\",status=\"success\",team=\"billing\"}",
        "aishell_query_duration_seconds_bucket{database=\"app1\",type=\"SELECT\",team=\"billing\",le=\"+Inf\"}",
        "aishell_slow_query_total{database=\"app1\",threshold=\"1\",team=\"billing\"}",
        "aishell_postgres_stat_statements_available{database=\"app1\",team=\"billing\"} 1",
        "aishell_open_orders{database=\"app1\",status=\"open\",team=\"billing\"} 3",
        "aishell_collector_up{collector=\"postgres/app1\"} 1",
    ];

    private static async Task<(ExporterProcess Exporter, PostgresServer Server)> StartAsync(string extra = "")
    {
        PostgresServer server = await PostgresServer.GetAsync();
        await server.ExecuteAsync("""
            CREATE TABLE IF NOT EXISTS exporter_orders (id serial PRIMARY KEY, status text);
            TRUNCATE exporter_orders;
            INSERT INTO exporter_orders (status) VALUES ('open'), ('open'), ('open'), ('closed');
            """);
        string home = Path.GetTempPath();
        string passwordFile = Path.Combine(home, $"aishell-pw-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(passwordFile, server.Password + "\n");
        int closedPort = ProcessRunner.FreePort();
        string config = $"""
            prometheus:
              collect_interval: 1
              databases:
                - name: app1
                  connection_string: "{server.ConnectionStringWithoutPassword}"
                  password_file: {passwordFile}
                  labels:
                    team: billing
                  statement_timeout: 2s
                - name: app2
                  connection_string: "Host=127.0.0.1;Port={closedPort};Username=postgres;Password=app2-secret-do-not-leak;Database=app2"
              custom_metrics:
                - name: open_orders
                  type: gauge
                  help: "Orders by status"
                  labels: [status]
                  query: "SELECT status, count(*) AS value FROM exporter_orders GROUP BY status"
                  databases: [app1]
            {extra}
            """;
        return (await ExporterProcess.StartAsync(config), server);
    }

    private static async Task<string> ScrapeAsync(ExporterProcess exporter)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        return await http.GetStringAsync(exporter.MetricsUrl);
    }

    private static async Task WaitForAsync(ExporterProcess exporter, string needle, int timeoutMs = 30_000)
    {
        var sw = Stopwatch.StartNew();
        string text = "";
        while (sw.ElapsedMilliseconds < timeoutMs)
        {
            text = await ScrapeAsync(exporter);
            if (text.Contains(needle, StringComparison.Ordinal))
            {
                return;
            }

            await Task.Delay(200);
        }

        Assert.Fail($"'{needle}' did not appear in {timeoutMs} ms. Last scrape:\n{text}\nstderr:\n{exporter.Stderr}");
    }

    /// <summary>
    /// prometheus.metrics.queries, .connections and .performance each stop what they name: the
    /// PostgreSQL views are not queried, the events are refused with the reason, the families
    /// leave the scrape; a reload that turns them on brings them back.
    /// </summary>
    [Theory]
    [InlineData("queries", "aishell_query_total{", "{\"kind\":\"query\",\"database\":\"app1\",\"duration_seconds\":0.01}", "pg_stat_statements")]
    [InlineData("connections", "aishell_connections_active{", "{\"kind\":\"connection\",\"database\":\"app1\",\"active\":3}", "pg_stat_activity")]
    [InlineData("performance", "aishell_cache_hit_rate{", null, "pg_stat_database")]
    public async Task AMetricsSwitch_StopsItsViewsEventsAndFamilies_AndAReloadTurnsItBackOn(string group, string family, string? @event, string view)
    {
        PostgresServer server = await PostgresServer.GetAsync();
        string passwordFile = Path.Combine(Path.GetTempPath(), $"aishell-pw-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(passwordFile, server.Password + "\n");
        string Config(bool on) => $"""
            prometheus:
              collect_interval: 1
              metrics:
                {group}: {(on ? "true" : "false")}
              databases:
                - name: app1
                  connection_string: "{server.ConnectionStringWithoutPassword}"
                  password_file: {passwordFile}
            """;
        try
        {
            await using ExporterProcess exporter = await ExporterProcess.StartAsync(Config(on: false));
            await WaitForAsync(exporter, "aishell_up{database=\"app1\"} 1");
            await Task.Delay(1500); // a second collection
            using var http = new HttpClient();
            if (@event is not null)
            {
                HttpResponseMessage refused = await http.PostAsync(new Uri(exporter.BaseUrl, "/api/v1/events"), new StringContent(@event + "\n"));
                Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
                Assert.Contains($"{group} metrics are off (prometheus.metrics.{group}: false)", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }

            string off = await ScrapeAsync(exporter);
            Assert.DoesNotContain(family, off, StringComparison.Ordinal);
            Assert.DoesNotContain($"collector=\"{view}\"", off, StringComparison.Ordinal); // the view never ran
            Assert.Contains("aishell_up{database=\"app1\"} 1", off, StringComparison.Ordinal);

            await File.WriteAllTextAsync(Path.Combine(exporter.Home, "exporter.yaml"), Config(on: true));
            ProcessRunner.Signal(exporter.Process, 1); // SIGHUP
            if (@event is not null)
            {
                var sw = Stopwatch.StartNew();
                HttpStatusCode status;
                do
                {
                    status = (await http.PostAsync(new Uri(exporter.BaseUrl, "/api/v1/events"), new StringContent(@event + "\n"))).StatusCode;
                }
                while (status != HttpStatusCode.Accepted && sw.ElapsedMilliseconds < 10_000 && await Delay());
                Assert.Equal(HttpStatusCode.Accepted, status);
            }

            await WaitForAsync(exporter, family);
            await WaitForAsync(exporter, $"collector=\"{view}\"");
        }
        finally
        {
            File.Delete(passwordFile);
        }

        static async Task<bool> Delay()
        {
            await Task.Delay(100);
            return true;
        }
    }

    [Fact]
    public async Task Reload_StartsAnAddedDatabase_RetiresARemovedOne_AndKeepsEveryCounter()
    {
        PostgresServer server = await PostgresServer.GetAsync();
        string passwordFile = Path.Combine(Path.GetTempPath(), $"aishell-pw-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(passwordFile, server.Password + "\n");
        string Config(params string[] names) => "prometheus:\n  collect_interval: 1\n  databases:\n" + string.Concat(names.Select(n => $"""
                - name: {n}
                  connection_string: "{server.ConnectionStringWithoutPassword}"
                  password_file: {passwordFile}

            """));
        try
        {
            await using ExporterProcess exporter = await ExporterProcess.StartAsync(Config("app1", "keep"));
            await WaitForAsync(exporter, "aishell_up{database=\"app1\"} 1");
            await WaitForAsync(exporter, "aishell_up{database=\"keep\"} 1");
            using var http = new HttpClient();
            Assert.Equal(HttpStatusCode.Accepted, (await http.PostAsync(new Uri(exporter.BaseUrl, "/api/v1/events"),
                new StringContent("{\"kind\":\"feature\",\"feature\":\"reload\"}\n"))).StatusCode);
            await WaitForAsync(exporter, "aishell_feature_usage_total{feature=\"reload\"} 1");

            await File.WriteAllTextAsync(Path.Combine(exporter.Home, "exporter.yaml"), Config("keep", "app3"));
            ProcessRunner.Signal(exporter.Process, 1); // SIGHUP
            await WaitForAsync(exporter, "aishell_up{database=\"app3\"} 1");
            await WaitForAsync(exporter, "aishell_collector_up{collector=\"postgres/app3\"} 1");
            Assert.Contains("databases -app1 +app3 applied", exporter.Stderr, StringComparison.Ordinal);

            // The removed database's series leave the exposition (through the pipeline, after its last batch).
            var sw = Stopwatch.StartNew();
            string text = await ScrapeAsync(exporter);
            while (text.Contains("database=\"app1\"", StringComparison.Ordinal) && sw.ElapsedMilliseconds < 10_000)
            {
                await Task.Delay(200);
                text = await ScrapeAsync(exporter);
            }

            Assert.DoesNotContain("database=\"app1\"", text, StringComparison.Ordinal);
            Assert.DoesNotContain("collector=\"postgres/app1\"", text, StringComparison.Ordinal);
            Assert.Contains("aishell_up{database=\"keep\"} 1", text, StringComparison.Ordinal);
            Assert.Contains("aishell_feature_usage_total{feature=\"reload\"} 1", text, StringComparison.Ordinal);
            Assert.Contains("aishell_config_last_reload_successful 1", text, StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri(exporter.BaseUrl, "/ready"))).StatusCode);
        }
        finally
        {
            File.Delete(passwordFile);
        }
    }

    [Fact]
    public async Task TwoDatabases_OneUnreachable_ServesEverySeedMetricForTheReachable_AndUpZeroForTheOther()
    {
        (ExporterProcess exporter, PostgresServer server) = await StartAsync();
        await using (exporter)
        {
            // From the very first scrape, the unreachable database reads 0.
            Assert.Contains("aishell_up{database=\"app2\"} 0\n", await ScrapeAsync(exporter), StringComparison.Ordinal);

            // A workload between two collections moves the statement-derived query metrics.
            await WaitForAsync(exporter, "aishell_up{database=\"app1\",team=\"billing\"} 1");
            await WaitForAsync(exporter, "aishell_query_total{database=\"app1\",type=\"SELECT\",status=\"success\",team=\"billing\"}");
            for (int i = 0; i < 20; i++)
            {
                await server.ExecuteAsync("SELECT count(*) FROM exporter_orders WHERE status = 'open'");
            }

            await Task.Delay(2500);
            string text = await ScrapeAsync(exporter);
            foreach (string series in ReachableSeries)
            {
                Assert.True(text.Contains(series, StringComparison.Ordinal), $"missing: {series}");
            }

            Assert.True(Exposition.Value(text, "aishell_query_total{database=\"app1\",type=\"SELECT\",status=\"success\",team=\"billing\"}") >= 20);
            Assert.Contains("aishell_up{database=\"app2\"} 0\n", text, StringComparison.Ordinal);
            Assert.True(Exposition.Value(text, "aishell_connection_errors_total{database=\"app2\",error=\"connection_refused\"}") >= 1);
            Assert.Contains("aishell_collector_up{collector=\"postgres/app2\"} 0\n", text, StringComparison.Ordinal);
            await Promtool.AssertCleanAsync(text);

            // No password anywhere: metrics, status, logs.
            using var http = new HttpClient();
            string status = await http.GetStringAsync(new Uri(exporter.BaseUrl, "/api/v1/status"));
            Assert.Contains("\"database\": \"app2\"", status, StringComparison.Ordinal);
            Assert.Equal(0, await exporter.StopAsync());

            // app2 failed every 1-2 s for several seconds: one line, the first, with its reason and no
            // stack trace; the repeats are held for the minute.
            string log = exporter.Stderr + "\n" + string.Join('\n', exporter.Stdout);
            string failure = Assert.Single(log.Split('\n'), l => l.Contains("collector postgres/app2 failed", StringComparison.Ordinal));
            Assert.Contains("failed (1 in a row): database app2: cannot connect (connection_refused)", failure, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", log, StringComparison.Ordinal);
            foreach (string haystack in new[] { text, status, exporter.Stderr, string.Join('\n', exporter.Stdout) })
            {
                Assert.DoesNotContain(server.Password, haystack, StringComparison.Ordinal);
                Assert.DoesNotContain("app2-secret-do-not-leak", haystack, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task StoppedServer_FlipsUpToZero_WhileMetricsStillAnswer_AndBackToOneAfterRestart()
    {
        (ExporterProcess exporter, PostgresServer server) = await StartAsync();
        await using (exporter)
        {
            const string up = "aishell_up{database=\"app1\",team=\"billing\"} 1";
            const string down = "aishell_up{database=\"app1\",team=\"billing\"} 0";
            await WaitForAsync(exporter, up);
            await server.ControlAsync("stop");
            try
            {
                await WaitForAsync(exporter, down, timeoutMs: 10_000);
                // The scrape does not wait on the dead database: it serves the last folded state.
                var sw = Stopwatch.StartNew();
                string text = await ScrapeAsync(exporter);
                Assert.True(sw.ElapsedMilliseconds < 2000, $"scrape took {sw.ElapsedMilliseconds} ms while the database was down");
                Assert.True(Exposition.Has(text, "aishell_cpu_usage_percent"), "host metrics keep flowing");
                Assert.True(Exposition.Has(text, "aishell_database_size_bytes"), "the last folded values are still served");
            }
            finally
            {
                await server.ControlAsync("restart");
            }

            await WaitForAsync(exporter, up, timeoutMs: 20_000);
            Assert.Contains("recovered", exporter.Stderr, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task UnreadablePasswordFile_IsAConfigError_ThatNamesTheEntry()
    {
        using var home = new TempHome();
        string file = Path.Combine(home.Path, "c.yaml");
        await File.WriteAllTextAsync(file, """
            prometheus:
              databases:
                - name: app9
                  connection_string: "Host=127.0.0.1;Username=postgres;Database=x"
                  password_file: /nonexistent/pw
            """);
        RunResult result = await home.RunAsync("prometheus", "start", "--port", "0", "--config", file);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"{file}:5: prometheus.databases[0].password_file: /nonexistent/pw: no such file", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StatusCommand_ShowsTheDownDatabase()
    {
        (ExporterProcess exporter, _) = await StartAsync();
        await using (exporter)
        {
            await WaitForAsync(exporter, "aishell_collector_up{collector=\"postgres/app2\"} 0");
            RunResult result = await ProcessRunner.RunAsync(NativeBinary.Path,
                ["prometheus", "status", "--host", "127.0.0.1", "--port", exporter.MetricsUrl.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)],
                ExporterProcess.Env(exporter.Home));
            Assert.Equal(0, result.ExitCode);
            Assert.Contains("✗ postgres/app2: DOWN: database app2: cannot connect (connection_refused)", result.Stdout, StringComparison.Ordinal);
            Assert.Contains("✓ postgres/app1", result.Stdout, StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.OK, (await new HttpClient().GetAsync(new Uri(exporter.BaseUrl, "/ready"))).StatusCode);
        }
    }

    [Fact]
    public async Task FrozenServer_TimesOut_IsCounted_UpDropsToZero_AndScrapesStillAnswerInMilliseconds()
    {
        (ExporterProcess exporter, PostgresServer server) = await StartAsync();
        await using (exporter)
        {
            await WaitForAsync(exporter, "aishell_up{database=\"app1\",team=\"billing\"} 1");
            await server.ControlAsync("freeze"); // SIGSTOP the postmaster: connections hang, nothing answers
            try
            {
                await WaitForAsync(exporter, "aishell_up{database=\"app1\",team=\"billing\"} 0", timeoutMs: 15_000);
                long slowest = 0;
                for (int i = 0; i < 10; i++)
                {
                    var sw = Stopwatch.StartNew();
                    string text = await ScrapeAsync(exporter);
                    slowest = Math.Max(slowest, sw.ElapsedMilliseconds);
                    Assert.True(Exposition.Has(text, "aishell_cpu_usage_percent"));
                }

                Assert.True(slowest < 1000, $"a scrape took {slowest} ms while the database was frozen");
                string now = await ScrapeAsync(exporter);
                Assert.True(Exposition.Value(now, "aishell_collector_errors_total{collector=\"postgres/app1\"}") >= 1);
                Assert.Contains("longer than", exporter.Stderr + string.Join('\n', exporter.Stdout) + now, StringComparison.Ordinal);
            }
            finally
            {
                await server.ControlAsync("thaw");
            }

            await WaitForAsync(exporter, "aishell_up{database=\"app1\",team=\"billing\"} 1", timeoutMs: 30_000);
        }
    }
}
