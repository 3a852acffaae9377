using System.Runtime.CompilerServices;

namespace AiShell.Pipeline.Metrics.Exposition;

/// <summary>
/// A growable byte buffer reused across scrapes. It grows (and allocates) only while the registry
/// grows; in steady state a scrape writes into memory it already has.
/// </summary>
public sealed class ScrapeBuffer
{
    private byte[] _buffer;
    private int _length;

    public ScrapeBuffer(int initialCapacity = 64 * 1024) => _buffer = new byte[initialCapacity];

    public int Length => _length;

    public int Capacity => _buffer.Length;

    public ReadOnlyMemory<byte> WrittenMemory => new(_buffer, 0, _length);

    public ReadOnlySpan<byte> WrittenSpan => new(_buffer, 0, _length);

    public void Reset() => _length = 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<byte> GetSpan(int sizeHint)
    {
        if (_buffer.Length - _length < sizeHint)
        {
            Grow(sizeHint);
        }

        return _buffer.AsSpan(_length);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Advance(int count) => _length += count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write(ReadOnlySpan<byte> bytes)
    {
        if (_buffer.Length - _length < bytes.Length)
        {
            Grow(bytes.Length);
        }

        bytes.CopyTo(_buffer.AsSpan(_length));
        _length += bytes.Length;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Grow(int sizeHint)
    {
        int wanted = Math.Max(_buffer.Length * 2, _length + sizeHint);
        Array.Resize(ref _buffer, wanted);
    }
}
