using AiShell.Pipeline.Tests.Shared;
using AiShell.Pipeline.Metrics.Exposition;

namespace AiShell.Pipeline.Metrics.Tests;

public sealed class AllocationTests
{
    [Fact]
    public void SerializingTenThousandSeries_IntoAReusedBuffer_AllocatesNothing()
    {
        MetricRegistry registry = TestRegistries.ProductShape(labelSets: 5_000); // 5k counters + 5k histograms
        Assert.Equal(10_000, registry.SeriesCount);
        var buffer = new ScrapeBuffer();
        foreach (ExpositionFormat format in new[] { ExpositionFormat.Text, ExpositionFormat.OpenMetrics })
        {
            // The first run grows the buffer to size once; Least does not count it.
            long allocated = Allocations.Least(() =>
            {
                buffer.Reset();
                ExpositionWriter.Write(buffer, registry, format);
            });
            Assert.Equal(0, allocated);
            Assert.True(buffer.Length > 1_000_000, "the scrape should hold every series");
        }
    }

    [Fact]
    public void RecordingIntoResolvedSeries_AllocatesNothing()
    {
        MetricRegistry registry = TestRegistries.ProductShape(labelSets: 10);
        Series counter = registry.Find("aishell_query_total")!.WithLabels("db0", "SELECT", "success");
        Series histogram = registry.Find("aishell_query_duration_seconds")!.WithLabels("db0", "SELECT", "success");
        long allocated = Allocations.Least(() =>
        {
            for (int i = 0; i < 10_000; i++)
            {
                counter.Add(1);
                histogram.Observe(i * 0.001);
            }
        });
        Assert.Equal(0, allocated);
        Assert.Equal(60_000, counter.Value); // the warm-up run and five attempts, all counted
    }
}
