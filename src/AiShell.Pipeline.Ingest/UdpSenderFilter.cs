using System.Net;
using System.Net.Sockets;

namespace AiShell.Pipeline.Ingest;

/// <summary>
/// <c>prometheus.ingest.udp_allow</c>: the networks whose datagrams are taken. Checked on the
/// sender's raw socket address, so a datagram costs a few byte compares and no allocation.
/// IPv4-mapped IPv6 senders (::ffff:a.b.c.d) match IPv4 networks.
/// </summary>
public sealed class UdpSenderFilter
{
    private readonly (byte[] Prefix, int Bits)[] _v4;
    private readonly (byte[] Prefix, int Bits)[] _v6;

    /// <param name="networks">CIDR networks (validated by the config: <see cref="IPNetwork.Parse(string)"/> accepts each).</param>
    public UdpSenderFilter(IEnumerable<string> networks)
    {
        var v4 = new List<(byte[], int)>();
        var v6 = new List<(byte[], int)>();
        foreach (string text in networks)
        {
            IPNetwork network = IPNetwork.Parse(text);
            byte[] prefix = network.BaseAddress.GetAddressBytes();
            (prefix.Length == 4 ? v4 : v6).Add((prefix, network.PrefixLength));
        }

        _v4 = [.. v4];
        _v6 = [.. v6];
    }

    /// <summary>Whether a sender (a sockaddr_in or sockaddr_in6 as the socket filled it) is in an allowed network.</summary>
    public bool Allows(SocketAddress sender)
    {
        ArgumentNullException.ThrowIfNull(sender);
        ReadOnlySpan<byte> raw = sender.Buffer.Span;
        if (sender.Family == AddressFamily.InterNetwork)
        {
            return Matches(_v4, raw.Slice(4, 4)); // sockaddr_in: family, port, then the address
        }

        if (sender.Family != AddressFamily.InterNetworkV6)
        {
            return false;
        }

        ReadOnlySpan<byte> address = raw.Slice(8, 16); // sockaddr_in6: family, port, flow info, then the address
        bool mapped = address[..10].IndexOfAnyExcept((byte)0) < 0 && address[10] == 0xff && address[11] == 0xff;
        return mapped ? Matches(_v4, address[12..]) : Matches(_v6, address);
    }

    private static bool Matches((byte[] Prefix, int Bits)[] networks, ReadOnlySpan<byte> address)
    {
        foreach ((byte[] prefix, int bits) in networks)
        {
            int whole = bits / 8, rest = bits % 8;
            if (!address[..whole].SequenceEqual(prefix.AsSpan(0, whole)))
            {
                continue;
            }

            int mask = (0xff << (8 - rest)) & 0xff;
            if (rest == 0 || (address[whole] & mask) == (prefix[whole] & mask))
            {
                return true;
            }
        }

        return false;
    }
}
