namespace AiShell.Pipeline.Collectors.Host;

internal readonly record struct MemoryReading(ulong TotalBytes, ulong AvailableBytes)
{
    public ulong UsedBytes => TotalBytes > AvailableBytes ? TotalBytes - AvailableBytes : 0;
}

/// <summary><c>/proc/meminfo</c>.</summary>
internal static class MemInfo
{
    /// <summary>
    /// MemTotal and MemAvailable (kernels before 3.14 lack MemAvailable: then MemFree + Buffers + Cached).
    /// </summary>
    public static MemoryReading Parse(string text)
    {
        ulong? total = null, available = null;
        ulong free = 0, buffers = 0, cached = 0;
        foreach (string line in text.Split('\n'))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }

            string key = line[..colon];
            string[] rest = line[(colon + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (rest.Length == 0 || !ulong.TryParse(rest[0], out ulong value))
            {
                continue;
            }

            ulong bytes = rest.Length > 1 && rest[1] == "kB" ? value * 1024 : value;
            switch (key)
            {
                case "MemTotal": total = bytes; break;
                case "MemAvailable": available = bytes; break;
                case "MemFree": free = bytes; break;
                case "Buffers": buffers = bytes; break;
                case "Cached": cached = bytes; break;
            }
        }

        return total is { } t
            ? new MemoryReading(t, available ?? free + buffers + cached)
            : throw new FormatException("/proc/meminfo has no MemTotal line");
    }
}
