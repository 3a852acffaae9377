using AiShell.Pipeline.Collectors.Host;

namespace AiShell.Pipeline.Collectors.Tests;

public sealed class ProcParseTests
{
    private static string Fixture(string relative) =>
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", relative));

    [Fact]
    public void ProcStat_SumsBusyTicks_ExcludingIdleAndIowait()
    {
        CpuTimes cpu = ProcStat.ParseCpu(Fixture("proc/stat"));
        ulong busy = 10132153UL + 290696 + 3084719 + 0 + 25195 + 0;
        Assert.Equal(busy, cpu.Busy);
        Assert.Equal(busy + 46828483 + 16683, cpu.Total);
    }

    [Fact]
    public void CpuUsage_IsTheBusyShareBetweenReadings()
    {
        var before = new CpuTimes(Busy: 1000, Total: 4000);
        var after = new CpuTimes(Busy: 1300, Total: 5000);
        Assert.Equal(30.0, CpuTimes.UsagePercent(before, after));
    }

    [Fact]
    public void CpuUsage_WhenNoTimePassedOrCountersReset_IsNull()
    {
        var reading = new CpuTimes(100, 400);
        Assert.Null(CpuTimes.UsagePercent(reading, reading));
        Assert.Null(CpuTimes.UsagePercent(new CpuTimes(500, 900), reading));
    }

    [Fact]
    public void ProcStat_WithoutAggregateLine_ThrowsFormatException() =>
        Assert.Throws<FormatException>(() => ProcStat.ParseCpu("cpu0 1 2 3 4\nintr 5\n"));

    [Fact]
    public void MemInfo_ReadsTotalAndAvailable_InBytes()
    {
        MemoryReading memory = MemInfo.Parse(Fixture("proc/meminfo"));
        Assert.Equal(24598420UL * 1024, memory.TotalBytes);
        Assert.Equal(22945296UL * 1024, memory.AvailableBytes);
        Assert.Equal((24598420UL - 22945296UL) * 1024, memory.UsedBytes);
    }

    [Fact]
    public void MemInfo_OnOldKernelsWithoutMemAvailable_FallsBackToFreeBuffersCached()
    {
        MemoryReading memory = MemInfo.Parse(Fixture("proc-old-kernel/meminfo"));
        Assert.Equal((512000UL + 128000 + 256000) * 1024, memory.AvailableBytes);
    }

    [Fact]
    public void MemInfo_WithoutMemTotal_ThrowsFormatException() =>
        Assert.Throws<FormatException>(() => MemInfo.Parse("MemFree: 1 kB\n"));

    [Fact]
    public void DiskStats_KeepsWholeDevices_SkipsPartitionsLoopAndRam()
    {
        List<DiskReading> disks = DiskStats.Parse(Fixture("proc/diskstats"));
        Assert.Equal(["vda", "nvme0n1", "dm-0"], disks.Select(d => d.Device).ToArray());
        DiskReading vda = disks[0];
        Assert.Equal(34075UL, vda.ReadsCompleted);
        Assert.Equal(2419490UL, vda.SectorsRead);
        Assert.Equal(6986UL, vda.WritesCompleted);
        Assert.Equal(1716888UL, vda.SectorsWritten);
    }

    [Fact]
    public void NetDev_ReadsReceivedAndSentBytesPerInterface()
    {
        List<NetworkReading> nics = NetDev.Parse(Fixture("proc/net/dev"));
        Assert.Equal(["lo", "eth0", "docker0"], nics.Select(n => n.Device).ToArray());
        Assert.Equal(new NetworkReading("eth0", 162562833, 179547), nics[1]);
    }

    [Fact]
    public void Parsers_IgnoreTruncatedLines()
    {
        Assert.Empty(DiskStats.Parse(" 252 0 vda 1 2 3\n"));
        Assert.Empty(NetDev.Parse("  eth0: 1 2 3\n"));
    }
}

public sealed class ProcessCollectorParseTests
{
    [Fact]
    public void Statm_SecondFieldIsResidentPages() =>
        Assert.Equal(12345, AiShell.Pipeline.Collectors.Host.ProcessCollector.ParseStatmRss("98765 12345 2000 10 0 5000 0\n"));

    [Fact]
    public void Stat_UtimePlusStime_EvenWithSpacesAndParensInTheCommand() =>
        Assert.Equal(150 + 25, AiShell.Pipeline.Collectors.Host.ProcessCollector.ParseStatCpuTicks(
            "4242 (my (odd) cmd) S 1 4242 4242 0 -1 4194560 500 0 0 0 150 25 0 0 20 0 12 0 100 1000000 300\n"));
}
