using System.Globalization;
using AiShell.Pipeline.Metrics;

namespace AiShell.Pipeline.Server;

/// <summary>
/// The exporter's own traffic: <c>aishell_exporter_http_requests_total{method,endpoint,status}</c> and
/// <c>aishell_exporter_http_request_duration_seconds{method,endpoint}</c>, apart from the
/// application traffic that request events report. Endpoints are a fixed set (unknown
/// paths count as <c>other</c>) so a path scan cannot grow the series count.
/// </summary>
internal sealed class HttpSelfMetrics
{
    private readonly MetricFamily _requests;
    private readonly MetricFamily _duration;

    public HttpSelfMetrics(MetricRegistry registry)
    {
        _requests = registry.Register(MetricCatalog.ExporterHttpRequestsTotal);
        _duration = registry.Register(MetricCatalog.ExporterHttpRequestDurationSeconds);
    }

    public void Record(string method, string endpoint, int status, double seconds)
    {
        _requests.WithLabels(method, endpoint, StatusText(status)).Add(1);
        _duration.WithLabels(method, endpoint).Observe(seconds);
    }

    public static string Method(string method) => method switch
    {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        _ => "OTHER",
    };

    private static string StatusText(int status) => status switch
    {
        200 => "200",
        202 => "202",
        400 => "400",
        404 => "404",
        405 => "405",
        413 => "413",
        429 => "429",
        500 => "500",
        503 => "503",
        _ => status.ToString(CultureInfo.InvariantCulture),
    };
}
