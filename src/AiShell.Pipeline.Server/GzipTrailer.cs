using System.Buffers;
using System.Buffers.Binary;

namespace AiShell.Pipeline.Server;

/// <summary>
/// The end of a gzip body, checked by hand: the runtime's inflater stops quietly at a cut made on a
/// flush boundary and ignores what follows a member, so a truncated body would be taken in part.
/// A body must be one member whose 8-byte trailer (CRC-32 and length of the inflated bytes, RFC 1952)
/// matches what was inflated, and nothing may follow it.
/// </summary>
internal struct GzipTrailer
{
    private static readonly uint[] Table = BuildTable();
    private uint _crc = 0xFFFFFFFFu;

    public GzipTrailer()
    {
    }

    /// <summary>Adds inflated bytes to the running CRC-32 (IEEE, reflected, as gzip uses).</summary>
    public void Add(ReadOnlySpan<byte> inflated)
    {
        uint crc = _crc;
        uint[] table = Table;
        foreach (byte b in inflated)
        {
            crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        _crc = crc;
    }

    /// <summary>Whether the compressed body ends with the trailer of exactly <paramref name="inflatedLength"/> bytes seen by <see cref="Add"/>.</summary>
    public readonly bool Matches(ReadOnlySequence<byte> compressed, long inflatedLength)
    {
        if (compressed.Length < 18)
        {
            return false; // a header (10) and a trailer (8) at least
        }

        Span<byte> trailer = stackalloc byte[8];
        compressed.Slice(compressed.Length - 8).CopyTo(trailer);
        return BinaryPrimitives.ReadUInt32LittleEndian(trailer) == ~_crc
            && BinaryPrimitives.ReadUInt32LittleEndian(trailer[4..]) == (uint)inflatedLength;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            uint c = i;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[i] = c;
        }

        return table;
    }
}
