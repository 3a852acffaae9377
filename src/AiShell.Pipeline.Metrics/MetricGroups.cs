namespace AiShell.Pipeline.Metrics;

/// <summary>A group of families that <c>prometheus.metrics.*</c> turns on and off together.</summary>
public enum MetricGroup
{
    /// <summary><c>prometheus.metrics.queries</c>: query events and pg_stat_statements.</summary>
    Queries,

    /// <summary><c>prometheus.metrics.connections</c>: connection events and pg_stat_activity.</summary>
    Connections,

    /// <summary><c>prometheus.metrics.performance</c>: pg_stat_database, table and index sizes, locks, replication.</summary>
    Performance,
}

/// <summary>
/// Which groups are on. A group that is off costs nothing: its PostgreSQL views are not queried,
/// its events are refused with the reason, and its families are left out of the scrape (kept, not
/// reset: turned on again by a reload, counters carry on). Read by collectors each run and by the
/// event schema per event; changed by a reload.
/// </summary>
public sealed class MetricGroups
{
    private static readonly MetricDescriptor[][] Families =
    [
        [MetricCatalog.QueryTotal, MetricCatalog.QueryDurationSeconds, MetricCatalog.QueryDurationSummary, MetricCatalog.SlowQueryTotal,
            MetricCatalog.QueryErrorsTotal, MetricCatalog.StatStatementsAvailable],
        [MetricCatalog.ConnectionsActive, MetricCatalog.ConnectionsPoolSize, MetricCatalog.ConnectionsByState, MetricCatalog.ConnectionWaitSeconds],
        [MetricCatalog.CacheHitRate, MetricCatalog.DatabaseSizeBytes, MetricCatalog.TransactionsTotal, MetricCatalog.TuplesTotal,
            MetricCatalog.DeadlocksTotal, MetricCatalog.TempBytesTotal, MetricCatalog.TempFilesTotal, MetricCatalog.TableSizeBytes,
            MetricCatalog.IndexSizeBytes, MetricCatalog.Locks, MetricCatalog.ReplicationLagSeconds, MetricCatalog.ReplicationLagBytes,
            MetricCatalog.ReplicationReplayLagSeconds],
    ];

    private static readonly string[] Keys = ["prometheus.metrics.queries", "prometheus.metrics.connections", "prometheus.metrics.performance"];

    private readonly bool[] _on = [true, true, true];

    /// <summary>Whether <paramref name="group"/> is on (a plain read: a change may take one run or one event to be seen).</summary>
    public bool IsOn(MetricGroup group) => Volatile.Read(ref _on[(int)group]);

    /// <summary>The config key that switches <paramref name="group"/>.</summary>
    public static string KeyOf(MetricGroup group) => Keys[(int)group];

    /// <summary>Switches the groups and shows or hides their families in <paramref name="registry"/> (also those registered later).</summary>
    public void Apply(MetricRegistry registry, bool queries, bool connections, bool performance)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ReadOnlySpan<bool> wanted = [queries, connections, performance];
        for (int group = 0; group < wanted.Length; group++)
        {
            Volatile.Write(ref _on[group], wanted[group]);
            foreach (MetricDescriptor descriptor in Families[group])
            {
                registry.SetHidden(descriptor, !wanted[group]);
            }
        }
    }
}
