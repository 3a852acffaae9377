using Npgsql;

namespace AiShell.Pipeline.Collectors.Postgres;

/// <summary><c>auto_discover: true</c>: the connectable, non-template databases of a server.</summary>
public static class PostgresDiscovery
{
    private const string Sql = "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY datname";

    /// <summary>Database names, filtered by include (when given) and exclude; patterns may use <c>*</c>.</summary>
    public static async Task<List<string>> DiscoverAsync(PostgresTargetOptions options, IReadOnlyList<string> include,
        IReadOnlyList<string> exclude, CancellationToken cancellationToken)
    {
        await using NpgsqlDataSource source = PostgresDataSource.Create(options);
        await using NpgsqlConnection connection = await source.OpenConnectionAsync(cancellationToken);
        await using NpgsqlCommand command = new(Sql, connection);
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        var names = new List<string>();
        while (await reader.ReadAsync(cancellationToken))
        {
            string name = reader.GetString(0);
            if ((include.Count == 0 || include.Any(p => Matches(p, name))) && !exclude.Any(p => Matches(p, name)))
            {
                names.Add(name);
            }
        }

        return names;
    }

    /// <summary>Connection string for one discovered database of the same server.</summary>
    public static string ForDatabase(string connectionString, string database) =>
        new NpgsqlConnectionStringBuilder(connectionString) { Database = database }.ConnectionString;

    internal static bool Matches(string pattern, string name)
    {
        if (!pattern.Contains('*', StringComparison.Ordinal))
        {
            return pattern == name;
        }

        string[] parts = pattern.Split('*');
        if (!name.StartsWith(parts[0], StringComparison.Ordinal) || !name.EndsWith(parts[^1], StringComparison.Ordinal))
        {
            return false;
        }

        int at = parts[0].Length;
        for (int i = 1; i < parts.Length - 1; i++)
        {
            int found = name.IndexOf(parts[i], at, StringComparison.Ordinal);
            if (found < 0)
            {
                return false;
            }

            at = found + parts[i].Length;
        }

        return at <= name.Length - parts[^1].Length;
    }
}
