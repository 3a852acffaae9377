using AiShell.Pipeline.Metrics;
using AiShell.Pipeline.Metrics.Flow;

namespace AiShell.Pipeline.Collectors.Host;

/// <summary>
/// Host statistics from Linux <c>/proc</c>: CPU, memory, block devices and network interfaces.
/// The root is injectable so tests can point it at fixture files. Reading is split from parsing
/// (<see cref="ProcStat"/>, <see cref="MemInfo"/>, <see cref="DiskStats"/>, <see cref="NetDev"/>).
/// </summary>
public sealed class HostCollector : ICollector
{
    private readonly string _procRoot;
    private readonly Dictionary<string, Series[]> _disks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Series[]> _interfaces = new(StringComparer.Ordinal);
    private MetricFamily? _cpu, _memUsed, _memAvailable, _diskReads, _diskWrites, _diskReadBytes, _diskWrittenBytes, _netRx, _netTx;
    private CpuTimes? _previousCpu;

    public HostCollector(string procRoot = "/proc") => _procRoot = procRoot;

    public string Name => "host";

    public void Register(MetricRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        _cpu = registry.Register(MetricCatalog.CpuUsagePercent);
        _memUsed = registry.Register(MetricCatalog.MemoryUsageBytes);
        _memAvailable = registry.Register(MetricCatalog.MemoryAvailableBytes);
        _diskReads = registry.Register(MetricCatalog.DiskReadsTotal);
        _diskWrites = registry.Register(MetricCatalog.DiskWritesTotal);
        _diskReadBytes = registry.Register(MetricCatalog.DiskReadBytesTotal);
        _diskWrittenBytes = registry.Register(MetricCatalog.DiskWrittenBytesTotal);
        _netRx = registry.Register(MetricCatalog.NetworkBytesReceived);
        _netTx = registry.Register(MetricCatalog.NetworkBytesSent);
    }

    public async ValueTask CollectAsync(SampleBatchBuilder batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (_cpu is null)
        {
            throw new InvalidOperationException("HostCollector.Register must run before CollectAsync.");
        }

        // CPU: the share since the previous run; the first run reports the average since boot.
        CpuTimes cpu = ProcStat.ParseCpu(await ReadAsync("stat", cancellationToken));
        double? usage = CpuTimes.UsagePercent(_previousCpu ?? default, cpu);
        _previousCpu = cpu;
        if (usage is { } percent)
        {
            batch.Set(_cpu.WithLabels(), percent);
        }

        MemoryReading memory = MemInfo.Parse(await ReadAsync("meminfo", cancellationToken));
        batch.Set(_memUsed!.WithLabels(), memory.UsedBytes);
        batch.Set(_memAvailable!.WithLabels(), memory.AvailableBytes);

        foreach (DiskReading disk in DiskStats.Parse(await ReadAsync("diskstats", cancellationToken)))
        {
            Series[] s = SeriesFor(_disks, disk.Device, _diskReads!, _diskWrites!, _diskReadBytes!, _diskWrittenBytes!);
            batch.Set(s[0], disk.ReadsCompleted);
            batch.Set(s[1], disk.WritesCompleted);
            batch.Set(s[2], (double)disk.SectorsRead * DiskReading.SectorBytes);
            batch.Set(s[3], (double)disk.SectorsWritten * DiskReading.SectorBytes);
        }

        foreach (NetworkReading nic in NetDev.Parse(await ReadAsync(Path.Combine("net", "dev"), cancellationToken)))
        {
            Series[] s = SeriesFor(_interfaces, nic.Device, _netRx!, _netTx!);
            batch.Set(s[0], nic.BytesReceived);
            batch.Set(s[1], nic.BytesSent);
        }
    }

    private Task<string> ReadAsync(string relative, CancellationToken cancellationToken) =>
        File.ReadAllTextAsync(Path.Combine(_procRoot, relative), cancellationToken);

    private static Series[] SeriesFor(Dictionary<string, Series[]> cache, string device, params MetricFamily[] families)
    {
        if (!cache.TryGetValue(device, out Series[]? series))
        {
            series = new Series[families.Length];
            for (int i = 0; i < families.Length; i++)
            {
                series[i] = families[i].WithLabels(device);
            }

            cache[device] = series;
        }

        return series;
    }
}
