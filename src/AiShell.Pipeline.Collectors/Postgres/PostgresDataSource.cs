using Npgsql;

namespace AiShell.Pipeline.Collectors.Postgres;

/// <summary>
/// Builds a target's own small data source: at most two pooled connections, connect and command
/// timeouts derived from the statement timeout, the server-side statement_timeout set for every
/// session, and an application_name that shows up in pg_stat_activity.
/// </summary>
public static class PostgresDataSource
{
    public const string ApplicationName = "aishell-exporter";

    /// <summary>Throws <see cref="ArgumentException"/> naming the problem, never echoing the string itself.</summary>
    public static NpgsqlDataSource Create(PostgresTargetOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (ConnectionStringProblem(options.ConnectionString) is { } problem)
        {
            throw new ArgumentException($"database '{options.Name}': connection_string {problem}");
        }

        var csb = new NpgsqlConnectionStringBuilder(options.ConnectionString);

        if (options.Password is not null)
        {
            csb.Password = options.Password;
        }

        int seconds = (int)Math.Ceiling(options.StatementTimeout.TotalSeconds);
        csb.Timeout = Math.Clamp(seconds, 1, 15);
        csb.CommandTimeout = seconds + 2; // the server-side timeout fires first; this guards a frozen server
        csb.ApplicationName ??= ApplicationName;
        csb.MaxPoolSize = 2;
        csb.MinPoolSize = 0;
        csb.IncludeErrorDetail = false;
        csb.Options = $"{csb.Options} -c statement_timeout={(long)options.StatementTimeout.TotalMilliseconds}".Trim();

        var builder = new NpgsqlDataSourceBuilder(csb.ConnectionString);
        return builder.Build();
    }

    /// <summary>
    /// Why a connection string cannot be used, in plain words that never repeat a value from it (a
    /// value may be a password); null when it can. Checked in three steps so the reason is precise:
    /// the KEY=VALUE syntax, then each key's name and each value's kind (every one that is wrong).
    /// </summary>
    public static string? ConnectionStringProblem(string connectionString)
    {
        var pairs = new System.Data.Common.DbConnectionStringBuilder();
        try
        {
            pairs.ConnectionString = connectionString;
        }
        catch (ArgumentException ex)
        {
            // "... starting at index 7." (or "ADP_ConnectionStringSyntax, 7" without resource text)
            System.Text.RegularExpressions.Match at = System.Text.RegularExpressions.Regex.Match(ex.Message, @"(\d+)\D*$");
            string where = at.Success ? $" near character {int.Parse(at.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) + 1}" : "";
            return $"is not a list of KEY=VALUE pairs separated by ';'{where} (e.g. Host=db;Database=app;Username=aishell; quote a value holding ';' in double quotes)";
        }

        var npgsql = new NpgsqlConnectionStringBuilder();
        var problems = new List<string>();
        foreach (string key in pairs.Keys)
        {
            if (!npgsql.ContainsKey(key))
            {
                problems.Add($"'{key}' is not a PostgreSQL connection setting (Host, Port, Database, Username, Password, SSL Mode, ...)");
                continue;
            }

            try
            {
                npgsql[key] = pairs[key];
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidCastException or OverflowException)
            {
                problems.Add($"the value of '{key}' is not of the kind it takes (a number, true/false, or one of its named choices)");
            }
        }

        return problems.Count == 0 ? null : string.Join("; ", problems);
    }

    /// <summary>Keeps exception text free of anything after '=' that could be a secret.</summary>
    private static string Redact(string message)
    {
        int eq = message.IndexOf('=', StringComparison.Ordinal);
        return eq < 0 ? message : message[..eq] + "=…";
    }
}
