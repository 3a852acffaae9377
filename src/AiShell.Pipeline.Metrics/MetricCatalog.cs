namespace AiShell.Pipeline.Metrics;

/// <summary>
/// Every family the exporter can serve, by name without the prefix. Collectors, the HTTP layer and
/// the docs use these descriptors; nothing is discovered by reflection.
/// </summary>
public static class MetricCatalog
{
    // System (host) metrics: names from the seed document.
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

    // Collector self-metrics.
    public static readonly MetricDescriptor CollectorUp = MetricDescriptor.Gauge(
        "collector_up", "1 when the collector's last run succeeded, 0 when it failed.", "collector");

    public static readonly MetricDescriptor CollectorErrorsTotal = MetricDescriptor.Counter(
        "collector_errors_total", "Failed collector runs; each failure restarts the collector with backoff.", "collector");

    public static readonly MetricDescriptor CollectorDurationSeconds = MetricDescriptor.Gauge(
        "collector_duration_seconds", "Wall time of the collector's last successful run.", "collector", "database");

    public static readonly MetricDescriptor CollectorLastSuccess = MetricDescriptor.Gauge(
        "collector_last_success_timestamp_seconds", "Unix time of the collector's last successful run.", "collector", "database");

    // Pipeline self-metrics.
    public static readonly MetricDescriptor PipelineSamplesTotal = MetricDescriptor.Counter(
        "pipeline_samples_folded_total", "Samples folded into series state, by aggregator shard.", "shard");

    public static readonly MetricDescriptor PipelineBatchesTotal = MetricDescriptor.Counter(
        "pipeline_batches_folded_total", "Sample batches folded, by aggregator shard.", "shard");

    // HTTP self-metrics (the seed's application metrics, for the exporter's own endpoints).
    public static readonly MetricDescriptor HttpRequestsTotal = MetricDescriptor.Counter(
        "http_requests_total", "HTTP requests served, by method, endpoint and status code.", "method", "endpoint", "status");

    public static readonly MetricDescriptor HttpRequestDurationSeconds = MetricDescriptor.Histogram(
        "http_request_duration_seconds", "HTTP request duration from routing to response written.", "http_duration", "method", "endpoint");

    public static readonly MetricDescriptor ScrapesTotal = MetricDescriptor.Counter(
        "exporter_scrapes_total", "Scrapes of the metrics endpoint, by negotiated format (text 0.0.4 or openmetrics).", "format");

    // Process.
    public static readonly MetricDescriptor ExporterBuildInfo = MetricDescriptor.Gauge(
        "exporter_build_info", "Always 1; the labels carry the exporter's version.", "version");

    public static readonly MetricDescriptor ExporterStartTime = MetricDescriptor.Gauge(
        "exporter_start_time_seconds", "Unix time the exporter started.");

    /// <summary>All of the above, for docs and for checks that a dashboard names only real metrics.</summary>
    public static IReadOnlyList<MetricDescriptor> All { get; } =
    [
        CpuUsagePercent, MemoryUsageBytes, MemoryAvailableBytes, DiskReadsTotal, DiskWritesTotal,
        DiskReadBytesTotal, DiskWrittenBytesTotal, NetworkBytesReceived, NetworkBytesSent,
        CollectorUp, CollectorErrorsTotal, CollectorDurationSeconds, CollectorLastSuccess,
        PipelineSamplesTotal, PipelineBatchesTotal, HttpRequestsTotal, HttpRequestDurationSeconds, ScrapesTotal,
        ExporterBuildInfo, ExporterStartTime,
    ];
}
