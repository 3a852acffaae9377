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
        NpgsqlConnectionStringBuilder csb;
        try
        {
            csb = new NpgsqlConnectionStringBuilder(options.ConnectionString);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or KeyNotFoundException)
        {
            throw new ArgumentException($"database '{options.Name}': connection_string is not valid Npgsql syntax ({Redact(ex.Message)})", ex);
        }

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

    /// <summary>Keeps exception text free of anything after '=' that could be a secret.</summary>
    private static string Redact(string message)
    {
        int eq = message.IndexOf('=', StringComparison.Ordinal);
        return eq < 0 ? message : message[..eq] + "=…";
    }
}
