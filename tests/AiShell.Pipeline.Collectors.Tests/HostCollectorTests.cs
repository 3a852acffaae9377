using AiShell.Pipeline.Collectors.Host;
using AiShell.Pipeline.Metrics;
using AiShell.Pipeline.Metrics.Flow;

namespace AiShell.Pipeline.Collectors.Tests;

public sealed class HostCollectorTests
{
    private static readonly string Root = Path.Combine(AppContext.BaseDirectory, "Fixtures", "proc");

    private static async Task<MetricRegistry> CollectOnce(HostCollector collector)
    {
        var registry = new MetricRegistry();
        collector.Register(registry);
        var builder = new SampleBatchBuilder("host", 2);
        await collector.CollectAsync(builder, CancellationToken.None);
        foreach (SampleBatch batch in builder.Build())
        {
            batch.Fold();
            batch.Release();
        }

        return registry;
    }

    private static double Value(MetricRegistry registry, string family, params string[] labels) =>
        registry.Find("aishell_" + family)!.WithLabels(labels).Value;

    [Fact]
    public async Task Collect_FromFixtureRoot_EmitsEverySeedHostMetric()
    {
        MetricRegistry registry = await CollectOnce(new HostCollector(Root));
        Assert.Equal((24598420.0 - 22945296.0) * 1024, Value(registry, "memory_usage_bytes"));
        Assert.Equal(22945296.0 * 1024, Value(registry, "memory_available_bytes"));
        Assert.Equal(34075, Value(registry, "disk_reads_total", "vda"));
        Assert.Equal(6986, Value(registry, "disk_writes_total", "vda"));
        Assert.Equal(2419490.0 * 512, Value(registry, "disk_read_bytes_total", "vda"));
        Assert.Equal(162562833, Value(registry, "network_bytes_received", "eth0"));
        Assert.Equal(179547, Value(registry, "network_bytes_sent", "eth0"));
        double cpu = Value(registry, "cpu_usage_percent");
        Assert.InRange(cpu, 22.0, 23.0); // since-boot average on the first run: 13.53M busy of 60.38M ticks
    }

    [Fact]
    public async Task Collect_WhenAFileIsMissing_Throws_SoTheRunCountsAsFailed()
    {
        string empty = Directory.CreateTempSubdirectory("aishell-proc-").FullName;
        try
        {
            var collector = new HostCollector(empty);
            collector.Register(new MetricRegistry());
            await Assert.ThrowsAsync<FileNotFoundException>(() =>
                collector.CollectAsync(new SampleBatchBuilder("host", 1), CancellationToken.None).AsTask());
        }
        finally
        {
            Directory.Delete(empty, recursive: true);
        }
    }

    [Fact]
    public async Task Collect_OnThisMachinesProc_Works()
    {
        Assert.True(File.Exists("/proc/stat"), "the tests run on Linux");
        MetricRegistry registry = await CollectOnce(new HostCollector());
        Assert.True(Value(registry, "memory_available_bytes") > 0);
        Assert.InRange(Value(registry, "cpu_usage_percent"), 0, 100);
    }
}
