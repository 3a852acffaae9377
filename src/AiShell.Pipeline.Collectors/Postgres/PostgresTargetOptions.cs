namespace AiShell.Pipeline.Collectors.Postgres;

/// <summary>One database to collect from, as the CLI resolved it from config (password already read).</summary>
public sealed record PostgresTargetOptions
{
    /// <summary>The <c>database</c> label.</summary>
    public required string Name { get; init; }

    /// <summary>Npgsql connection string; never logged or shown.</summary>
    public required string ConnectionString { get; init; }

    /// <summary>From password_file or password_env, overriding any password in the connection string.</summary>
    public string? Password { get; init; }

    public TimeSpan StatementTimeout { get; init; } = TimeSpan.FromSeconds(5);

    public int TopTables { get; init; } = 20;

    public IReadOnlyList<double> SlowQueryThresholds { get; init; } = [1];

    public IReadOnlyList<SqlMetric> SqlMetrics { get; init; } = [];
}

/// <summary>A SQL-defined metric: its family (labels: database + the declared columns), and the query.</summary>
public sealed record SqlMetric(Metrics.MetricDescriptor Descriptor, string Query, IReadOnlyList<string> LabelColumns);
