using AiShell.Pipeline.Metrics;
using AiShell.Pipeline.Metrics.Flow;

namespace AiShell.Pipeline.Configuration;

/// <summary>An entry of <c>prometheus.databases</c>.</summary>
public sealed record DatabaseConfig
{
    public const int DefaultTopTables = 20;
    public static readonly TimeSpan DefaultStatementTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The <c>database</c> label of everything collected for this entry.</summary>
    public required string Name { get; init; }

    /// <summary>Npgsql syntax. A password may be here, but <see cref="PasswordFile"/>/<see cref="PasswordEnv"/> keep it out of the file.</summary>
    public required string ConnectionString { get; init; }

    public string? PasswordFile { get; init; }

    public string? PasswordEnv { get; init; }

    public IReadOnlyList<KeyValuePair<string, string>> Labels { get; init; } = [];

    public TimeSpan StatementTimeout { get; init; } = DefaultStatementTimeout;

    /// <summary>Monitor every connectable, non-template database of the server (filtered by include/exclude).</summary>
    public bool AutoDiscover { get; init; }

    public IReadOnlyList<string> Include { get; init; } = [];

    public IReadOnlyList<string> Exclude { get; init; } = [];

    /// <summary>Largest tables (and indexes) exported per database, so 50k tables cannot explode cardinality.</summary>
    public int TopTables { get; init; } = DefaultTopTables;

    /// <summary>Where the query metrics come from: query events, pg_stat_statements, or events while they arrive (auto).</summary>
    public QuerySource QuerySource { get; init; } = QuerySource.Auto;

    /// <summary>
    /// Every setting of the entry as one string, to tell whether a reloaded entry changed (the
    /// record's own equality compares its lists by reference).
    /// </summary>
    public string Fingerprint() => string.Join('\u001f',
        Name, ConnectionString, PasswordFile ?? "", PasswordEnv ?? "", StatementTimeout.Ticks, TopTables, AutoDiscover, QuerySource,
        string.Join(',', Include), string.Join(',', Exclude), string.Join(',', Labels.Select(static l => l.Key + "=" + l.Value)));
}
