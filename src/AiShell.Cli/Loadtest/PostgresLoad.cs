using System.Diagnostics;
using AiShell.Cli.Runtime;
using Npgsql;

namespace AiShell.Cli.Loadtest;

/// <summary>
/// <c>--dsn</c>: a query workload against a real PostgreSQL on a table the harness creates
/// (<c>aishell_loadtest</c>). Every query and every pool acquisition is recorded as an in-process
/// event, so the harness's own /metrics shows query, latency, error and pool metrics live.
/// </summary>
internal static class PostgresLoad
{
    private const int SeedRows = 10_000;

    public static async Task<int> RunAsync(string dsn, LoadOptions options, CancellationToken stop)
    {
        var csb = new NpgsqlConnectionStringBuilder(dsn) { MaxPoolSize = options.Concurrency, ApplicationName = "aishell-loadtest" };
        string database = csb.Database ?? csb.Username ?? "postgres";
        await using NpgsqlDataSource source = new NpgsqlDataSourceBuilder(csb.ConnectionString).Build();
        try
        {
            await PrepareAsync(source, stop);
        }
        catch (NpgsqlException ex)
        {
            await Console.Error.WriteLineAsync($"✗ cannot prepare the load-test table on {csb.Host}:{csb.Port}/{database}: {ex.Message}");
            return 1;
        }

        await using ExporterRuntime runtime = await LoadRuntime.StartAsync(options, stop);
        var stats = new LoadStats { Unit = "queries" };
        var pool = new PoolGauge(options.Concurrency);
        await LoadDriver.RunAsync(options, stats, stop,
            (worker, seed, deadline) => WorkAsync(source, runtime, database, pool, worker, seed, options, deadline));
        runtime.Recorder.FlushAll();
        double errorRate = stats.PrintSummary("PostgreSQL workload " + string.Join(',', options.Mix.Select(m => $"{m.Op}={m.Weight}")),
            $"{csb.Host}:{csb.Port}/{database}");
        return errorRate <= options.MaxErrorRate ? 0 : 1;
    }

    private static async Task PrepareAsync(NpgsqlDataSource source, CancellationToken stop)
    {
        await using NpgsqlConnection connection = await source.OpenConnectionAsync(stop);
        await using var create = new NpgsqlCommand($"""
            CREATE TABLE IF NOT EXISTS aishell_loadtest (id bigserial PRIMARY KEY, v int NOT NULL, payload text NOT NULL);
            INSERT INTO aishell_loadtest (v, payload)
            SELECT g, md5(g::text) FROM generate_series(1, {SeedRows}) g
            WHERE (SELECT count(*) FROM aishell_loadtest) < {SeedRows};
            """, connection);
        await create.ExecuteNonQueryAsync(stop);
    }

    private static async Task WorkAsync(NpgsqlDataSource source, ExporterRuntime runtime, string database, PoolGauge pool,
        LoadStats.Worker worker, int seed, LoadOptions options, CancellationToken stop)
    {
        var random = new Random(seed);
        var pacer = new RatePacer(options.Rate / options.Concurrency);
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await pacer.WaitTurnAsync(1, stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            string op = options.PickOp(random);
            long acquire = Stopwatch.GetTimestamp();
            NpgsqlConnection connection;
            try
            {
                connection = await source.OpenConnectionAsync(CancellationToken.None);
            }
            catch (NpgsqlException ex)
            {
                runtime.Recorder.ConnectionError(database, (ex as PostgresException)?.SqlState ?? "08006");
                Interlocked.Increment(ref worker.Errors);
                await Task.Delay(50, CancellationToken.None);
                continue;
            }

            double wait = Stopwatch.GetElapsedTime(acquire).TotalSeconds;
            runtime.Recorder.Connection(database, pool.Acquire(), pool.Size, wait);
            await using (connection)
            {
                long started = Stopwatch.GetTimestamp();
                string status = "success";
                string? error = null;
                try
                {
                    await using NpgsqlCommand command = Command(connection, op, random);
                    await command.ExecuteNonQueryAsync(CancellationToken.None);
                }
                catch (PostgresException ex)
                {
                    (status, error) = ("error", ex.SqlState);
                    Interlocked.Increment(ref worker.Errors);
                }

                double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
                runtime.Recorder.Query(database, op.ToUpperInvariant(), status, seconds, error);
                if (status == "success")
                {
                    worker.Done(1, seconds);
                }
            }

            runtime.Recorder.Connection(database, pool.Release(), pool.Size);
        }
    }

    private static NpgsqlCommand Command(NpgsqlConnection connection, string op, Random random)
    {
        long id = random.NextInt64(1, SeedRows + 1);
        NpgsqlCommand command = op switch
        {
            "select" => new NpgsqlCommand("SELECT v, payload FROM aishell_loadtest WHERE id = $1", connection) { Parameters = { new() { Value = id } } },
            "insert" => new NpgsqlCommand("INSERT INTO aishell_loadtest (v, payload) VALUES ($1, md5($1::text))", connection) { Parameters = { new() { Value = (int)id } } },
            "update" => new NpgsqlCommand("UPDATE aishell_loadtest SET v = v + 1 WHERE id = $1", connection) { Parameters = { new() { Value = id } } },
            _ => new NpgsqlCommand("DELETE FROM aishell_loadtest WHERE id = (SELECT max(id) FROM aishell_loadtest) AND id > $1", connection) { Parameters = { new() { Value = (long)SeedRows } } },
        };
        return command;
    }

    /// <summary>Connections the workers hold right now, out of the pool's maximum.</summary>
    private sealed class PoolGauge(int size)
    {
        private int _inUse;

        public double Size { get; } = size;

        public double Acquire() => Interlocked.Increment(ref _inUse);

        public double Release() => Interlocked.Decrement(ref _inUse);
    }
}
