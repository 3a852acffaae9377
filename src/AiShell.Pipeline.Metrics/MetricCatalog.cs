namespace AiShell.Pipeline.Metrics;

/// <summary>
/// Every family the exporter can serve, by name without the prefix. Collectors, the HTTP layer and
/// the docs use these descriptors; nothing is discovered by reflection.
/// </summary>
public static class MetricCatalog
{
    // System (host) metrics: names from the integration guide.
    public static readonly MetricDescriptor CpuUsagePercent = MetricDescriptor.Gauge(
        "cpu_usage_percent", "Host CPU busy time over the last collect interval, in percent (0-100) of all CPUs.");

    public static readonly MetricDescriptor MemoryUsageBytes = MetricDescriptor.Gauge(
        "memory_usage_bytes", "Host memory in use: MemTotal minus MemAvailable from /proc/meminfo.");

    public static readonly MetricDescriptor MemoryAvailableBytes = MetricDescriptor.Gauge(
        "memory_available_bytes", "Host memory available for new work without swapping (MemAvailable).");

    public static readonly MetricDescriptor DiskReadsTotal = MetricDescriptor.Counter(
        "disk_reads_total", "Reads completed by a block device (from /proc/diskstats).", "device");

    public static readonly MetricDescriptor DiskWritesTotal = MetricDescriptor.Counter(
        "disk_writes_total", "Writes completed by a block device (from /proc/diskstats).", "device");

    public static readonly MetricDescriptor DiskReadBytesTotal = MetricDescriptor.Counter(
        "disk_read_bytes_total", "Bytes read by a block device (sectors read x 512).", "device");

    public static readonly MetricDescriptor DiskWrittenBytesTotal = MetricDescriptor.Counter(
        "disk_written_bytes_total", "Bytes written by a block device (sectors written x 512).", "device");

    public static readonly MetricDescriptor NetworkBytesReceived = MetricDescriptor.Counter(
        "network_bytes_received", "Bytes received by a network interface since boot (from /proc/net/dev).", "device");

    public static readonly MetricDescriptor NetworkBytesSent = MetricDescriptor.Counter(
        "network_bytes_sent", "Bytes sent by a network interface since boot (from /proc/net/dev).", "device");

    // PostgreSQL: availability and connections (source="server": seen by the server; "pool": reported by the app).
    public static readonly MetricDescriptor Up = MetricDescriptor.Gauge(
        "up", "1 when the last collection from this database succeeded, 0 when it could not connect or failed.", "database");

    public static readonly MetricDescriptor ConnectionsActive = MetricDescriptor.Gauge(
        "connections_active", "Open connections: server-side, client backends of the database (pg_stat_activity).", "database", "source");

    public static readonly MetricDescriptor ConnectionsByState = MetricDescriptor.Gauge(
        "connections_by_state", "Client backends of the database by pg_stat_activity.state.", "database", "state");

    public static readonly MetricDescriptor ConnectionsPoolSize = MetricDescriptor.Gauge(
        "connections_pool_size", "Connection limit that applies: server-side, datconnlimit or max_connections minus superuser_reserved_connections.", "database", "source");

    public static readonly MetricDescriptor ConnectionErrorsTotal = MetricDescriptor.Counter(
        "connection_errors_total", "Failed connection attempts by the exporter, by SQLSTATE or reason (connection_refused, timeout, dns, other).", "database", "error") with { SharedWrites = true };

    // PostgreSQL: performance (pg_stat_database, sizes).
    public static readonly MetricDescriptor CacheHitRate = MetricDescriptor.Gauge(
        "cache_hit_rate", "Buffer cache hit ratio (0-1), blks_hit / (blks_hit + blks_read), over the last interval with block access.", "database");

    public static readonly MetricDescriptor DatabaseSizeBytes = MetricDescriptor.Gauge(
        "database_size_bytes", "pg_database_size of the database.", "database");

    public static readonly MetricDescriptor TableSizeBytes = MetricDescriptor.Gauge(
        "table_size_bytes", "pg_table_size (heap + TOAST, without indexes) of the largest tables, schema-qualified.", "database", "table");

    public static readonly MetricDescriptor IndexSizeBytes = MetricDescriptor.Gauge(
        "index_size_bytes", "pg_relation_size of the largest indexes.", "database", "table", "index");

    public static readonly MetricDescriptor TransactionsTotal = MetricDescriptor.Counter(
        "transactions_total", "Transactions committed or rolled back (pg_stat_database).", "database", "result");

    public static readonly MetricDescriptor TuplesTotal = MetricDescriptor.Counter(
        "tuples_total", "Rows returned, fetched, inserted, updated and deleted (pg_stat_database).", "database", "operation");

    public static readonly MetricDescriptor DeadlocksTotal = MetricDescriptor.Counter(
        "deadlocks_total", "Deadlocks detected (pg_stat_database).", "database");

    public static readonly MetricDescriptor TempBytesTotal = MetricDescriptor.Counter(
        "temp_bytes_total", "Bytes written to temporary files by queries (pg_stat_database).", "database");

    public static readonly MetricDescriptor TempFilesTotal = MetricDescriptor.Counter(
        "temp_files_total", "Temporary files created by queries (pg_stat_database).", "database");

    // PostgreSQL: replication and locks.
    public static readonly MetricDescriptor ReplicationLagSeconds = MetricDescriptor.Gauge(
        "replication_lag_seconds", "Primary side: replay_lag of each standby (pg_stat_replication).", "database", "standby");

    public static readonly MetricDescriptor ReplicationLagBytes = MetricDescriptor.Gauge(
        "replication_lag_bytes", "Primary side: WAL bytes between the current LSN and each standby's replay LSN.", "database", "standby");

    public static readonly MetricDescriptor ReplicationReplayLagSeconds = MetricDescriptor.Gauge(
        "replication_replay_lag_seconds", "Standby side: now() minus pg_last_xact_replay_timestamp().", "database");

    public static readonly MetricDescriptor Locks = MetricDescriptor.Gauge(
        "locks", "Locks held (state=granted) or awaited (state=waiting) in the database, by mode (pg_locks).", "database", "mode", "state");

    // Queries (pg_stat_statements now; query events with the ingest pipeline).
    public static readonly MetricDescriptor QueryTotal = MetricDescriptor.Counter(
        "query_total", "Total number of queries executed, by statement type and status.", "database", "type", "status");

    public static readonly MetricDescriptor QueryDurationSeconds = MetricDescriptor.Histogram(
        "query_duration_seconds", "Query execution duration.", "query_duration", "database", "type");

    public static readonly MetricDescriptor SlowQueryTotal = MetricDescriptor.Counter(
        "slow_query_total", "Queries slower than a configured threshold (seconds).", "database", "threshold");

    public static readonly MetricDescriptor QueryDurationSummary = MetricDescriptor.Summary(
        "query_duration_summary", "Query duration quantiles over the last minute (sliding, 10 s steps), from query events.",
        [0.5, 0.9, 0.95, 0.99], TimeSpan.FromMinutes(1), "database");

    public static readonly MetricDescriptor QueryErrorsTotal = MetricDescriptor.Counter(
        "query_errors_total", "Failed queries reported by events, by statement type and error class (SQLSTATE, or other).", "database", "type", "error");

    // Application metrics from events.
    public static readonly MetricDescriptor ConnectionWaitSeconds = MetricDescriptor.Histogram(
        "connection_wait_seconds", "Time the application waited to acquire a pooled connection.", "connection_wait", "database");

    public static readonly MetricDescriptor HttpRequestSizeBytes = MetricDescriptor.Histogram(
        "http_request_size_bytes", "Size of application HTTP requests reported by events.", "request_size", "method", "endpoint");

    public static readonly MetricDescriptor ActiveUsers = MetricDescriptor.Gauge(
        "active_users", "Active users of the application, by role.", "role");

    public static readonly MetricDescriptor FeatureUsageTotal = MetricDescriptor.Counter(
        "feature_usage_total", "Uses of an application feature.", "feature");

    // Ingest self-metrics.
    public static readonly MetricDescriptor EventsReceivedTotal = MetricDescriptor.Counter(
        "pipeline_events_received_total", "Events accepted for folding, by ingest path (http, udp, inprocess).", "source") with { SharedWrites = true };

    public static readonly MetricDescriptor EventsRejectedTotal = MetricDescriptor.Counter(
        "pipeline_events_rejected_total", "Events refused as malformed or undeclared, by ingest path and reason.", "source", "reason") with { SharedWrites = true };

    public static readonly MetricDescriptor UdpDatagramsDroppedTotal = MetricDescriptor.Counter(
        "pipeline_udp_datagrams_dropped_total",
        "DogStatsD datagrams never read: reason kernel (the socket's receive buffer overflowed; raise prometheus.ingest.udp_receive_buffer_bytes) or not_allowed (sender outside prometheus.ingest.udp_allow).",
        "reason") with { SharedWrites = true };

    public static readonly MetricDescriptor EventsDroppedTotal = MetricDescriptor.Counter(
        "pipeline_events_dropped_total", "Valid events not folded because the pipeline was full (HTTP answers 429 instead; UDP drops).", "source") with { SharedWrites = true };

    public static readonly MetricDescriptor PipelinePendingSamples = MetricDescriptor.Gauge(
        "pipeline_pending_samples", "Samples admitted and not yet folded (the channels' depth).");

    public static readonly MetricDescriptor IngestBatchEvents = MetricDescriptor.Histogram(
        "pipeline_ingest_batch_events", "Events per ingest batch (HTTP request, UDP packet, in-process flush).", "batch_events", "source") with { SharedWrites = true };

    public static readonly MetricDescriptor StatStatementsAvailable = MetricDescriptor.Gauge(
        "postgres_stat_statements_available", "1 when pg_stat_statements is installed and readable in the database.", "database");

    public static readonly MetricDescriptor PostgresViewErrorsTotal = MetricDescriptor.Counter(
        "postgres_view_errors_total", "A view's query failed while the connection stayed up (timeout, permission, error); the others still ran.", "database", "view", "reason") with { SharedWrites = true };

    // Collector self-metrics.
    public static readonly MetricDescriptor CollectorUp = MetricDescriptor.Gauge(
        "collector_up", "1 when the collector's last run succeeded, 0 when it failed.", "collector");

    public static readonly MetricDescriptor CollectorErrorsTotal = MetricDescriptor.Counter(
        "collector_errors_total", "Failed collector runs; each failure restarts the collector with backoff.", "collector") with { SharedWrites = true };

    public static readonly MetricDescriptor CollectorDurationSeconds = MetricDescriptor.Gauge(
        "collector_duration_seconds", "Wall time of the collector's last successful run.", "collector", "database");

    public static readonly MetricDescriptor CollectorLastSuccess = MetricDescriptor.Gauge(
        "collector_last_success_timestamp_seconds", "Unix time of the collector's last successful run.", "collector", "database");

    // Pipeline self-metrics.
    public static readonly MetricDescriptor PipelineSamplesTotal = MetricDescriptor.Counter(
        "pipeline_samples_folded_total", "Samples folded into series state, by aggregator shard.", "shard");

    public static readonly MetricDescriptor PipelineBatchesTotal = MetricDescriptor.Counter(
        "pipeline_batches_folded_total", "Sample batches folded, by aggregator shard.", "shard");

    public static readonly MetricDescriptor SeriesOverflowTotal = MetricDescriptor.Counter(
        "pipeline_series_overflow_total", "Samples folded into a family's overflow series because it reached prometheus.labels.limit.", "family") with { SharedWrites = true };

    // The application's HTTP traffic, fed by request events.
    public static readonly MetricDescriptor HttpRequestsTotal = MetricDescriptor.Counter(
        "http_requests_total", "The application's HTTP requests reported by request events, by method, endpoint and status code.", "method", "endpoint", "status");

    public static readonly MetricDescriptor HttpRequestDurationSeconds = MetricDescriptor.Histogram(
        "http_request_duration_seconds", "The application's HTTP request duration reported by request events.", "http_duration", "method", "endpoint");

    // The exporter's own endpoints: families of their own, so events can never write into them.
    public static readonly MetricDescriptor ExporterHttpRequestsTotal = MetricDescriptor.Counter(
        "exporter_http_requests_total", "Requests to the exporter's own HTTP endpoints, by method, endpoint and status code.", "method", "endpoint", "status") with { SharedWrites = true };

    public static readonly MetricDescriptor ExporterHttpRequestDurationSeconds = MetricDescriptor.Histogram(
        "exporter_http_request_duration_seconds", "Duration of requests to the exporter's own endpoints, from routing to response written.", "http_duration", "method", "endpoint") with { SharedWrites = true };

    public static readonly MetricDescriptor ScrapesTotal = MetricDescriptor.Counter(
        "exporter_scrapes_total", "Scrapes of the metrics endpoint, by negotiated format (text 0.0.4 or openmetrics).", "format") with { SharedWrites = true };

    public static readonly MetricDescriptor ConfigReloadsTotal = MetricDescriptor.Counter(
        "config_reloads_total", "Config reloads (SIGHUP or a changed file), by result: success, or failure (the running config stays).", "result") with { SharedWrites = true };

    public static readonly MetricDescriptor ConfigLastReloadSuccessful = MetricDescriptor.Gauge(
        "config_last_reload_successful", "1 when the last config reload succeeded (or none happened), 0 when it failed.");

    // Process.
    public static readonly MetricDescriptor ProcessResidentMemory = MetricDescriptor.Gauge(
        "process_resident_memory_bytes", "Resident set size of the exporter process.");

    public static readonly MetricDescriptor ProcessCpuSeconds = MetricDescriptor.Counter(
        "process_cpu_seconds_total", "User and system CPU time the exporter process used.");

    public static readonly MetricDescriptor ProcessGcCollections = MetricDescriptor.Counter(
        "process_gc_collections_total", "Garbage collections of the exporter's .NET runtime, by generation.", "generation");

    public static readonly MetricDescriptor ProcessGcHeapBytes = MetricDescriptor.Gauge(
        "process_gc_heap_bytes", "Managed heap size after the last garbage collection.");

    public static readonly MetricDescriptor ExporterBuildInfo = MetricDescriptor.Gauge(
        "exporter_build_info", "Always 1; the labels carry the exporter's version.", "version");

    public static readonly MetricDescriptor ExporterStartTime = MetricDescriptor.Gauge(
        "exporter_start_time_seconds", "Unix time the exporter started.");

    // Cluster mode (prometheus.cluster.enabled): present only on cluster members.
    public static readonly MetricDescriptor ClusterMembers = MetricDescriptor.Gauge(
        "cluster_members", "Cluster members as this member sees them, by status (up, joining, leaving, exiting, unreachable).", "status");

    public static readonly MetricDescriptor ClusterDatabasesOwned = MetricDescriptor.Gauge(
        "cluster_databases_owned", "Databases this member collects now (each database is collected by exactly one live member).");

    public static readonly MetricDescriptor ClusterRebalancesTotal = MetricDescriptor.Counter(
        "cluster_rebalances_total", "Databases that moved onto or off this member (start of ownership, hand-over, failover, rebalance).") with { SharedWrites = true };

    /// <summary>All of the above, for docs and for checks that a dashboard names only real metrics.</summary>
    public static IReadOnlyList<MetricDescriptor> All { get; } =
    [
        CpuUsagePercent, MemoryUsageBytes, MemoryAvailableBytes, DiskReadsTotal, DiskWritesTotal,
        DiskReadBytesTotal, DiskWrittenBytesTotal, NetworkBytesReceived, NetworkBytesSent,
        Up, ConnectionsActive, ConnectionsByState, ConnectionsPoolSize, ConnectionErrorsTotal, CacheHitRate,
        DatabaseSizeBytes, TableSizeBytes, IndexSizeBytes, TransactionsTotal, TuplesTotal, DeadlocksTotal, TempBytesTotal,
        TempFilesTotal, ReplicationLagSeconds, ReplicationLagBytes, ReplicationReplayLagSeconds, Locks, QueryTotal,
        QueryDurationSeconds, QueryDurationSummary, SlowQueryTotal, QueryErrorsTotal, ConnectionWaitSeconds, HttpRequestsTotal, HttpRequestDurationSeconds, HttpRequestSizeBytes, ActiveUsers,
        FeatureUsageTotal, EventsReceivedTotal, EventsRejectedTotal, EventsDroppedTotal, UdpDatagramsDroppedTotal, PipelinePendingSamples, IngestBatchEvents,
        StatStatementsAvailable, PostgresViewErrorsTotal,
        CollectorUp, CollectorErrorsTotal, CollectorDurationSeconds, CollectorLastSuccess,
        PipelineSamplesTotal, PipelineBatchesTotal, SeriesOverflowTotal, ExporterHttpRequestsTotal, ExporterHttpRequestDurationSeconds, ScrapesTotal,
        ExporterBuildInfo, ExporterStartTime, ConfigReloadsTotal, ConfigLastReloadSuccessful, ProcessResidentMemory, ProcessCpuSeconds, ProcessGcCollections, ProcessGcHeapBytes,
        ClusterMembers, ClusterDatabasesOwned, ClusterRebalancesTotal,
    ];
}
