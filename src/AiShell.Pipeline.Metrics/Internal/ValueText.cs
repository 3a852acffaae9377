using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace AiShell.Pipeline.Metrics.Internal;

/// <summary>
/// The UTF-8 text of a series' last formatted non-integer value (a histogram's or summary's sum),
/// kept while the value is unchanged: most series of a large registry are idle between scrapes,
/// and copying 18 bytes is several times cheaper than shortest round-trip formatting.
/// <para>
/// A struct, so that a family keeps one array of them beside its other per-series columns; use it
/// through a reference (an array element, a field), never a copy. Concurrent scrapes share it
/// through a <see cref="SequenceLock"/> and never wait: a scrape that finds it being rewritten
/// formats the value itself, and one that cannot publish skips it.
/// </para>
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct ValueText
{
    /// <summary>"-1.7976931348623157E+308", the longest round-trip text of a double.</summary>
    private const int Capacity = 24;

    private const int Vector256Size = 32;

    private SequenceLock _lock;
    private int _length; // 0: nothing cached yet
    private ulong _bits;
    private Text _text; // room for a whole vector, so that a copy is one move

    [InlineArray(Vector256Size)]
    private struct Text
    {
        private byte _first;
    }

    /// <summary>Copies the cached text of <paramref name="value"/> into <paramref name="destination"/>; false when it is not cached (the destination may then hold garbage).</summary>
    public bool TryCopy(double value, Span<byte> destination, out int written)
    {
        written = 0;
        if (!_lock.TryBeginRead(out int token))
        {
            return false;
        }

        int length = _length;
        if (length == 0 || _bits != BitConverter.DoubleToUInt64Bits(value))
        {
            return false;
        }

        if (destination.Length >= Vector256Size)
        {
            // The serializer's lines leave room: one vector move instead of a memmove call.
            Vector256.LoadUnsafe(ref _text[0]).StoreUnsafe(ref MemoryMarshal.GetReference(destination));
        }
        else
        {
            ((ReadOnlySpan<byte>)_text)[..length].CopyTo(destination);
        }

        written = length;
        return _lock.EndRead(token);
    }

    /// <summary>Remembers <paramref name="text"/> as the text of <paramref name="value"/>, unless another scrape is doing the same.</summary>
    public void Publish(double value, ReadOnlySpan<byte> text)
    {
        if (text.Length > Capacity || !_lock.TryEnterWrite(out int token))
        {
            return;
        }

        _bits = BitConverter.DoubleToUInt64Bits(value);
        _length = text.Length;
        text.CopyTo(_text);
        _lock.ExitWrite(token);
    }
}
