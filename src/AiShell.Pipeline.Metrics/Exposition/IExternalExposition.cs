namespace AiShell.Pipeline.Metrics.Exposition;

/// <summary>
/// Metrics from another library served in the same scrape (see the prometheus-net bridge). Written
/// after the registry's own families and before OpenMetrics' <c># EOF</c>. It must not write a
/// family the registry already has, nor its own <c># EOF</c>.
/// </summary>
public interface IExternalExposition
{
    void WriteTo(ScrapeBuffer buffer, ExpositionFormat format, MetricRegistry registry);
}
