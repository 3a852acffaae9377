using System.Diagnostics;
using Npgsql;
using Testcontainers.PostgreSql;

namespace AiShell.Pipeline.Tests.Shared;

/// <summary>
/// The real PostgreSQL the tests use. ./test.sh starts a throwaway cluster (tests/postgres.sh) and
/// passes it in AISHELL_TEST_PG; without it, a Testcontainers PostgreSQL is started where a Docker
/// engine answers. With neither, every test that needs PostgreSQL fails (never skips).
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static PostgresServer? _shared;
    private readonly PostgreSqlContainer? _container;

    private PostgresServer(string connectionString, PostgreSqlContainer? container)
    {
        ConnectionString = connectionString;
        _container = container;
    }

    /// <summary>Npgsql connection string (with password) to the test database.</summary>
    public string ConnectionString { get; }

    public string Password => new NpgsqlConnectionStringBuilder(ConnectionString).Password!;

    public int Port => new NpgsqlConnectionStringBuilder(ConnectionString).Port;

    /// <summary>The same connection string without its password (for password_file tests).</summary>
    public string ConnectionStringWithoutPassword =>
        new NpgsqlConnectionStringBuilder(ConnectionString) { Password = null }.ConnectionString;

    public static async Task<PostgresServer> GetAsync()
    {
        await Gate.WaitAsync();
        try
        {
            return _shared ??= await StartAsync();
        }
        finally
        {
            Gate.Release();
        }
    }

    private static async Task<PostgresServer> StartAsync()
    {
        if (Environment.GetEnvironmentVariable("AISHELL_TEST_PG") is { Length: > 0 } cs)
        {
            await using var probe = new NpgsqlConnection(cs);
            try
            {
                await probe.OpenAsync();
            }
            catch (NpgsqlException ex)
            {
                Assert.Fail($"AISHELL_TEST_PG is set but PostgreSQL is not reachable: {ex.Message}");
            }

            return new PostgresServer(cs, null);
        }

        if (!DockerAvailable())
        {
            Assert.Fail("No PostgreSQL for the tests: run ./test.sh (it starts one from apt), set AISHELL_TEST_PG, or run where a Docker engine answers.");
        }

        PostgreSqlContainer container = new PostgreSqlBuilder("postgres:16")
            .WithDatabase("aishell_test")
            .WithCommand("-c", "shared_preload_libraries=pg_stat_statements", "-c", "pg_stat_statements.track=all")
            .Build();
        await container.StartAsync();
        await using (var conn = new NpgsqlConnection(container.GetConnectionString()))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", conn);
            await cmd.ExecuteNonQueryAsync();
        }

        return new PostgresServer(container.GetConnectionString(), container);
    }

    private static bool DockerAvailable() =>
        File.Exists("/var/run/docker.sock") || Environment.GetEnvironmentVariable("DOCKER_HOST") is { Length: > 0 };

    public async Task<NpgsqlConnection> OpenAsync(string? database = null)
    {
        var csb = new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false };
        if (database is not null)
        {
            csb.Database = database;
        }

        var connection = new NpgsqlConnection(csb.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    public async Task ExecuteAsync(string sql, string? database = null)
    {
        await using NpgsqlConnection connection = await OpenAsync(database);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    public async Task<T> ScalarAsync<T>(string sql, string? database = null)
    {
        await using NpgsqlConnection connection = await OpenAsync(database);
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Starts a streaming standby of the server; returns its connection string.</summary>
    public async Task<string> StartStandbyAsync() => (await ControlAsync("standby")).Trim();

    /// <summary>Stops, restarts, freezes or thaws the server (the apt cluster via tests/postgres.sh); returns its output.</summary>
    public async Task<string> ControlAsync(string action)
    {
        if (_container is not null)
        {
            Assert.Fail("server control needs the apt cluster from ./test.sh (AISHELL_TEST_PG_CTL)");
        }

        string script = Environment.GetEnvironmentVariable("AISHELL_TEST_PG_CTL")
            ?? throw new InvalidOperationException("AISHELL_TEST_PG_CTL is not set: run the tests through ./test.sh");
        var psi = new ProcessStartInfo(script, action) { RedirectStandardError = true, RedirectStandardOutput = true };
        using Process process = Process.Start(psi)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        string error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"postgres.sh {action} failed: {error}");
        NpgsqlConnection.ClearAllPools();
        return await output;
    }

    public async ValueTask DisposeAsync()
    {
        if (_container is not null)
        {
            await _container.DisposeAsync();
        }
    }
}
