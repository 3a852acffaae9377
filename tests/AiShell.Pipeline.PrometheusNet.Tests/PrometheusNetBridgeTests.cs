using System.Text;
using AiShell.Pipeline.Metrics;
using AiShell.Pipeline.Metrics.Exposition;
using Prom = Prometheus;

namespace AiShell.Pipeline.PrometheusNet.Tests;

public sealed class PrometheusNetBridgeTests
{
    private static string Render(MetricRegistry registry, ExpositionFormat format)
    {
        var buffer = new ScrapeBuffer();
        ExpositionWriter.Write(buffer, registry, format);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static (MetricRegistry Ours, Prom.CollectorRegistry Theirs) Setup()
    {
        var ours = new MetricRegistry();
        ours.Register(MetricCatalog.QueryTotal).WithLabels("app1", "SELECT", "success").Add(3);
        Prom.CollectorRegistry theirs = Prom.Metrics.NewCustomRegistry();
        Prom.MetricFactory factory = Prom.Metrics.WithCustomRegistry(theirs);
        factory.CreateCounter("myapp_orders_total", "Orders placed", "channel").WithLabels("web").Inc(7);
        factory.CreateGauge("myapp_queue_depth", "Jobs waiting").Set(12);
        factory.CreateCounter("aishell_query_total", "A colliding name", "database", "type", "status").WithLabels("x", "y", "z").Inc();
        ExpositionWriter.AddExternal(ours, new PrometheusNetBridge(theirs));
        return (ours, theirs);
    }

    [Fact]
    public void TheirMetrics_AppearInOurScrape_AndACollidingFamilyIsLeftOut()
    {
        (MetricRegistry ours, _) = Setup();
        string text = Render(ours, ExpositionFormat.Text);
        Assert.Contains("myapp_orders_total{channel=\"web\"} 7", text, StringComparison.Ordinal);
        Assert.Contains("myapp_queue_depth 12", text, StringComparison.Ordinal);
        Assert.Single(text.Split('\n'), l => l.StartsWith("# TYPE aishell_query_total ", StringComparison.Ordinal));
        Assert.DoesNotContain("A colliding name", text, StringComparison.Ordinal);
        Assert.Contains("aishell_query_total{database=\"app1\",type=\"SELECT\",status=\"success\"} 3", text, StringComparison.Ordinal);
    }

    [Fact]
    public void OpenMetrics_HasExactlyOneEofAtTheEnd()
    {
        (MetricRegistry ours, _) = Setup();
        string om = Render(ours, ExpositionFormat.OpenMetrics);
        Assert.EndsWith("# EOF\n", om, StringComparison.Ordinal);
        Assert.Equal(1, om.Split('\n').Count(l => l == "# EOF"));
        Assert.Contains("myapp_orders_total{channel=\"web\"} 7", om, StringComparison.Ordinal);
    }

    [Fact]
    public void UpdatesInTheirRegistry_ShowInTheNextScrape()
    {
        (MetricRegistry ours, Prom.CollectorRegistry theirs) = Setup();
        Prom.Metrics.WithCustomRegistry(theirs).CreateGauge("myapp_queue_depth", "Jobs waiting").Set(99);
        Assert.Contains("myapp_queue_depth 99", Render(ours, ExpositionFormat.Text), StringComparison.Ordinal);
    }
}
