using AiShell.Pipeline.Metrics;
using AiShell.Pipeline.Metrics.Flow;

namespace AiShell.Pipeline.Collectors.Host;

/// <summary>
/// The exporter's own process: resident memory and CPU time from <c>/proc/self</c>, garbage
/// collections and managed heap from the runtime. What a soak test watches for leaks.
/// </summary>
public sealed class ProcessCollector(string procRoot = "/proc") : ICollector
{
    private const double ClockTicksPerSecond = 100; // USER_HZ: 100 on every Linux ABI .NET runs on
    private Series? _rss, _cpu, _heap;
    private Series[] _gc = [];

    public string Name => "process";

    public void Register(MetricRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        _rss = registry.Register(MetricCatalog.ProcessResidentMemory).WithLabels();
        _cpu = registry.Register(MetricCatalog.ProcessCpuSeconds).WithLabels();
        _heap = registry.Register(MetricCatalog.ProcessGcHeapBytes).WithLabels();
        MetricFamily gc = registry.Register(MetricCatalog.ProcessGcCollections);
        _gc = [gc.WithLabels("0"), gc.WithLabels("1"), gc.WithLabels("2")];
    }

    public async ValueTask CollectAsync(SampleBatchBuilder batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        string statm = await File.ReadAllTextAsync(Path.Combine(procRoot, "self", "statm"), cancellationToken);
        batch.Set(_rss!, ParseStatmRss(statm) * Environment.SystemPageSize);
        string stat = await File.ReadAllTextAsync(Path.Combine(procRoot, "self", "stat"), cancellationToken);
        batch.Set(_cpu!, ParseStatCpuTicks(stat) / ClockTicksPerSecond);
        for (int g = 0; g < _gc.Length; g++)
        {
            batch.Set(_gc[g], GC.CollectionCount(g));
        }

        batch.Set(_heap!, GC.GetGCMemoryInfo().HeapSizeBytes);
    }

    /// <summary>statm: size resident shared ... in pages; the second field is the resident set.</summary>
    internal static long ParseStatmRss(string statm) =>
        long.Parse(statm.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>stat: fields after the parenthesised command name; utime and stime are fields 14 and 15.</summary>
    internal static long ParseStatCpuTicks(string stat)
    {
        string[] f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return long.Parse(f[11], System.Globalization.CultureInfo.InvariantCulture) + long.Parse(f[12], System.Globalization.CultureInfo.InvariantCulture);
    }
}
