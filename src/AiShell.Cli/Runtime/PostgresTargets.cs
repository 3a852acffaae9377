using AiShell.Pipeline.Collectors.Postgres;
using AiShell.Pipeline.Configuration;
using AiShell.Pipeline.Metrics;

namespace AiShell.Cli.Runtime;

/// <summary>
/// Turns <c>prometheus.databases</c> into collector targets: reads passwords from files or the
/// environment, expands <c>auto_discover</c> entries, and attaches the SQL-defined custom metrics.
/// Errors name the entry and key, never a password or a connection string.
/// </summary>
internal static class PostgresTargets
{
    public static Task<List<PostgresTargetOptions>> ResolveAsync(ExporterConfig config, Action<string> log, CancellationToken cancellationToken) =>
        ResolveAsync(config, config.Databases, log, cancellationToken);

    /// <summary>The targets of some of the config's entries (a reload resolves only the ones it adds).</summary>
    public static async Task<List<PostgresTargetOptions>> ResolveAsync(ExporterConfig config, IEnumerable<DatabaseConfig> entries,
        Action<string> log, CancellationToken cancellationToken)
    {
        var targets = new List<PostgresTargetOptions>();
        foreach (DatabaseConfig database in entries)
        {
            var target = new PostgresTargetOptions
            {
                Name = database.Name,
                ConnectionString = database.ConnectionString,
                Password = ReadPassword(config, database),
                StatementTimeout = database.StatementTimeout,
                TopTables = database.TopTables,
                SlowQueryThresholds = config.SlowQueryThresholds,
            };

            try
            {
                PostgresDataSource.Create(target).Dispose(); // validates the connection string up front
            }
            catch (ArgumentException ex)
            {
                throw new ConfigException([config.ErrorAt(FieldOf(config, database, "connection_string"), ex.Message)]);
            }

            if (!database.AutoDiscover)
            {
                targets.Add(target with { SqlMetrics = SqlMetricsFor(config, database.Name, database.Name) });
                continue;
            }

            List<string> names;
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(database.StatementTimeout + TimeSpan.FromSeconds(5));
                names = await PostgresDiscovery.DiscoverAsync(target, database.Include, database.Exclude, timeout.Token);
            }
            catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException or OperationCanceledException)
            {
                log($"database {database.Name}: auto_discover could not list databases ({ConnectionErrors.Classify(ex)}); monitoring the entry itself until restart");
                targets.Add(target with { SqlMetrics = SqlMetricsFor(config, database.Name, database.Name) });
                continue;
            }

            log($"database {database.Name}: auto_discover found {names.Count} database(s): {string.Join(", ", names)}");
            foreach (string name in names)
            {
                targets.Add(target with
                {
                    Name = name,
                    ConnectionString = PostgresDiscovery.ForDatabase(database.ConnectionString, name),
                    SqlMetrics = SqlMetricsFor(config, database.Name, name),
                });
            }
        }

        return targets;
    }

    private static string? ReadPassword(ExporterConfig config, DatabaseConfig database)
    {
        if (database.PasswordFile is { } file)
        {
            return ConfigChecks.ReadProblem(file, out string password) is { } problem
                ? throw new ConfigException([config.ErrorAt(FieldOf(config, database, "password_file"), $"{file}: {problem}")])
                : password.TrimEnd('\r', '\n');
        }

        if (database.PasswordEnv is { } variable)
        {
            return Environment.GetEnvironmentVariable(variable)
                ?? throw new ConfigException([config.ErrorAt(FieldOf(config, database, "password_env"), $"the environment variable {variable} is not set")]);
        }

        return null;
    }

    private static string FieldOf(ExporterConfig config, DatabaseConfig database, string field) =>
        $"prometheus.databases[{config.Databases.IndexOf(database)}].{field}";

    /// <summary>SQL metrics that apply to a target: those without a databases list, or naming the entry or the database.</summary>
    private static List<SqlMetric> SqlMetricsFor(ExporterConfig config, string entry, string database)
    {
        var metrics = new List<SqlMetric>();
        if (!config.MetricsCustom)
        {
            return metrics;
        }

        foreach (CustomMetricConfig metric in config.CustomMetrics)
        {
            if (metric.Query is null || (metric.Databases is { } only && !only.Contains(entry) && !only.Contains(database)))
            {
                continue;
            }

            var descriptor = new MetricDescriptor(metric.Name, metric.Help, metric.Type, ["database", .. metric.Labels]);
            metrics.Add(new SqlMetric(descriptor, metric.Query, metric.Labels));
        }

        return metrics;
    }
}
