namespace AiShell.Pipeline.Collectors.Host;

internal readonly record struct NetworkReading(string Device, ulong BytesReceived, ulong BytesSent);

/// <summary><c>/proc/net/dev</c>.</summary>
internal static class NetDev
{
    /// <summary>Two header lines, then <c>iface: rx_bytes rx_packets ... (8 rx fields) tx_bytes ...</c>.</summary>
    public static List<NetworkReading> Parse(string text)
    {
        var result = new List<NetworkReading>();
        foreach (string line in text.Split('\n'))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }

            string device = line[..colon].Trim();
            string[] f = line[(colon + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (device.Length == 0 || f.Length < 9)
            {
                continue;
            }

            if (ulong.TryParse(f[0], out ulong rx) && ulong.TryParse(f[8], out ulong tx))
            {
                result.Add(new NetworkReading(device, rx, tx));
            }
        }

        return result;
    }
}
