using AiShell.Pipeline.Metrics.Flow;
using Npgsql;

namespace AiShell.Pipeline.Collectors.Postgres;

/// <summary>What a view needs for one run: the open connection, the server version, the batch.</summary>
internal sealed class PgScrape(NpgsqlConnection connection, SampleBatchBuilder batch, CancellationToken cancellationToken)
{
    public NpgsqlConnection Connection { get; } = connection;

    public SampleBatchBuilder Batch { get; } = batch;

    public CancellationToken Token { get; } = cancellationToken;

    /// <summary>server_version_num / 10000: 12 ... 17.</summary>
    public int MajorVersion => Connection.PostgreSqlVersion.Major;

    /// <summary>Runs a query and calls <paramref name="onRow"/> per row.</summary>
    public async Task QueryAsync(string sql, Action<NpgsqlDataReader> onRow, params NpgsqlParameter[] parameters)
    {
        await using NpgsqlCommand command = Connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddRange(parameters);
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(Token);
        while (await reader.ReadAsync(Token))
        {
            onRow(reader);
        }
    }

    /// <summary>The column as a double, or null for SQL NULL (which then emits nothing).</summary>
    public static double? Double(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : Convert.ToDouble(reader.GetValue(ordinal), System.Globalization.CultureInfo.InvariantCulture);
}
