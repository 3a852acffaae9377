using System.Text.RegularExpressions;

namespace AiShell.Pipeline.Collectors.Host;

internal readonly record struct DiskReading(string Device, ulong ReadsCompleted, ulong SectorsRead,
    ulong WritesCompleted, ulong SectorsWritten)
{
    /// <summary>/proc/diskstats counts 512-byte sectors whatever the device's real sector size.</summary>
    public const int SectorBytes = 512;
}

/// <summary><c>/proc/diskstats</c>.</summary>
internal static partial class DiskStats
{
    /// <summary>
    /// Whole devices only: partitions, ram disks, loop and floppy devices are skipped (the same
    /// default as node_exporter), so a disk's I/O is not counted twice.
    /// </summary>
    [GeneratedRegex(@"^(z?ram|loop|fd|(h|s|v|xv)d[a-z]+|nvme\d+n\d+p|mmcblk\d+p)\d+$|^(z?ram|loop|fd)\d*$")]
    private static partial Regex IgnoredDevice();

    public static List<DiskReading> Parse(string text)
    {
        var result = new List<DiskReading>();
        foreach (string line in text.Split('\n'))
        {
            string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            // major minor name reads merged sectors ms writes merged sectors ms ...
            if (f.Length < 14 || IgnoredDevice().IsMatch(f[2]))
            {
                continue;
            }

            if (ulong.TryParse(f[3], out ulong reads) && ulong.TryParse(f[5], out ulong sectorsRead)
                && ulong.TryParse(f[7], out ulong writes) && ulong.TryParse(f[9], out ulong sectorsWritten))
            {
                result.Add(new DiskReading(f[2], reads, sectorsRead, writes, sectorsWritten));
            }
        }

        return result;
    }
}
