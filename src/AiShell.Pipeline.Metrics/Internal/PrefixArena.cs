using System.Text;

namespace AiShell.Pipeline.Metrics.Internal;

/// <summary>
/// A family's sample-line prefixes, encoded to UTF-8 back to back in large chunks. The serializer
/// walks a family's series in creation order, so their prefixes are read in address order: with one
/// array per prefix they lay scattered among whatever else was allocated meanwhile, and a scrape of
/// 40,000 series spent half its time waiting on cache misses. Written under the family's lock; the
/// bytes of a slice never change once handed out.
/// </summary>
internal sealed class PrefixArena
{
    private const int ChunkSize = 64 * 1024;
    private byte[] _chunk = new byte[1024]; // small first: most families hold a handful of series
    private int _used;

    public Utf8Slice Append(string text)
    {
        int length = Encoding.UTF8.GetByteCount(text);
        if (length > ChunkSize / 4)
        {
            return new Utf8Slice(Encoding.UTF8.GetBytes(text), 0, length); // a huge label set gets its own array
        }

        if (_chunk.Length - _used < length)
        {
            _chunk = new byte[Math.Min(ChunkSize, _chunk.Length * 4)];
            _used = 0;
        }

        int written = Encoding.UTF8.GetBytes(text, _chunk.AsSpan(_used));
        var slice = new Utf8Slice(_chunk, _used, written);
        _used += written;
        return slice;
    }
}

/// <summary>Bytes in an arena chunk.</summary>
internal readonly struct Utf8Slice(byte[] array, int offset, int length)
{
    private readonly byte[] _array = array;
    private readonly int _offset = offset;
    private readonly int _length = length;

    public bool IsEmpty => _array is null;

    public ReadOnlySpan<byte> Span => new(_array, _offset, _length);
}
