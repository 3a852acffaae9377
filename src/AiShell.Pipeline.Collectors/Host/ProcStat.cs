namespace AiShell.Pipeline.Collectors.Host;

/// <summary>The aggregate <c>cpu</c> line of <c>/proc/stat</c>, in clock ticks.</summary>
internal readonly record struct CpuTimes(ulong Busy, ulong Total)
{
    /// <summary>
    /// Busy share between two readings, in percent. Null when no time passed (or the counters went
    /// backwards, which only a reboot does) so that nothing is emitted rather than a wrong zero.
    /// </summary>
    public static double? UsagePercent(CpuTimes previous, CpuTimes current)
    {
        if (current.Total <= previous.Total || current.Busy < previous.Busy)
        {
            return null;
        }

        double busy = current.Busy - previous.Busy;
        double total = current.Total - previous.Total;
        return Math.Clamp(busy / total * 100.0, 0, 100);
    }
}

internal static class ProcStat
{
    /// <summary>
    /// Parses <c>cpu  user nice system idle iowait irq softirq steal guest guest_nice</c>.
    /// Busy is everything but idle and iowait; guest time is already inside user, so it is not added.
    /// </summary>
    public static CpuTimes ParseCpu(string text)
    {
        foreach (string line in text.Split('\n'))
        {
            if (!line.StartsWith("cpu ", StringComparison.Ordinal))
            {
                continue;
            }

            string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 5)
            {
                break;
            }

            ulong Field(int i) => i < fields.Length && ulong.TryParse(fields[i], out ulong v) ? v : 0;
            ulong idle = Field(4) + Field(5);
            ulong busy = Field(1) + Field(2) + Field(3) + Field(6) + Field(7) + Field(8);
            return new CpuTimes(busy, busy + idle);
        }

        throw new FormatException("/proc/stat has no aggregate 'cpu' line");
    }
}
