using System.Text;

namespace AiShell.Pipeline.Metrics.Internal;

/// <summary>
/// A family's label texts, encoded to UTF-8 back to back in large chunks. The serializer walks a
/// family's series in creation order, so their texts are read in address order: with one array per
/// text they lay scattered among whatever else was allocated meanwhile, and a scrape of 40,000
/// series spent half its time waiting on cache misses. Every text has at least
/// <see cref="LabelText.Slack"/> readable bytes after it (the next text, or the chunk's padding),
/// so the serializer may copy it in whole vectors. Written under the family's lock; the bytes of a
/// text never change once handed out.
/// </summary>
internal sealed class LabelArena
{
    private const int ChunkSize = 64 * 1024;
    private byte[] _chunk = new byte[256 + LabelText.Slack]; // small first: most families hold a handful of series
    private int _used;

    public LabelText Append(string text)
    {
        int length = Encoding.UTF8.GetByteCount(text);
        if (length > ChunkSize / 4)
        {
            var own = new byte[length + LabelText.Slack]; // a huge label set gets its own array
            Encoding.UTF8.GetBytes(text, own);
            return new LabelText(own, 0, length);
        }

        if (_chunk.Length - LabelText.Slack - _used < length)
        {
            int size = Math.Max(length, Math.Min(ChunkSize, (_chunk.Length - LabelText.Slack) * 4));
            _chunk = new byte[size + LabelText.Slack];
            _used = 0;
        }

        int written = Encoding.UTF8.GetBytes(text, _chunk.AsSpan(_used));
        var slice = new LabelText(_chunk, _used, written);
        _used += written;
        return slice;
    }
}

/// <summary>A series' label text in an arena chunk, followed by at least <see cref="LabelText.Slack"/> readable bytes.</summary>
internal readonly struct LabelText(byte[] array, int offset, int length)
{
    /// <summary>Readable bytes after every label text (and every piece of a family's text): the line writer copies whole vectors.</summary>
    public const int Slack = 32;

    public byte[] Array { get; } = array;

    public int Offset { get; } = offset;

    public int Length { get; } = length;

    public ReadOnlySpan<byte> Span => new(Array, Offset, Length);
}
