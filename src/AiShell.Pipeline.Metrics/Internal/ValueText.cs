using System.Runtime.CompilerServices;

namespace AiShell.Pipeline.Metrics.Internal;

/// <summary>
/// The UTF-8 text of a series' last formatted non-integer value (a histogram's or summary's sum),
/// kept while the value is unchanged: most series of a large registry are idle between scrapes,
/// and copying 18 bytes is several times cheaper than shortest round-trip formatting.
/// <para>
/// Concurrent scrapes share it through a sequence lock and never wait: a scrape that wants to
/// publish takes an odd sequence number (or gives up if another holds one), fills the text and
/// publishes the next even number; a reader uses the text only when the sequence was even and is
/// unchanged after its copy, and otherwise formats the value itself.
/// </para>
/// </summary>
internal sealed class ValueText
{
    /// <summary>"-1.7976931348623157E+308", the longest round-trip text of a double.</summary>
    private const int Capacity = 24;

    private int _sequence;
    private int _length; // 0: nothing cached yet
    private ulong _bits;
    private Text _text;

    [InlineArray(Capacity)]
    private struct Text
    {
        private byte _first;
    }

    /// <summary>Copies the cached text of <paramref name="value"/> into <paramref name="destination"/>; false when it is not cached (the destination may then hold garbage).</summary>
    public bool TryCopy(double value, Span<byte> destination, out int written)
    {
        int before = Volatile.Read(ref _sequence); // acquire: the reads below stay below
        written = _length;
        if ((before & 1) != 0 || written == 0 || _bits != BitConverter.DoubleToUInt64Bits(value))
        {
            return false;
        }

        ((ReadOnlySpan<byte>)_text)[..written].CopyTo(destination);
        Volatile.ReadBarrier(); // the reads above complete before the sequence is read again
        return Volatile.Read(ref _sequence) == before;
    }

    /// <summary>Remembers <paramref name="text"/> as the text of <paramref name="value"/>, unless another scrape is doing the same.</summary>
    public void Publish(double value, ReadOnlySpan<byte> text)
    {
        int sequence = Volatile.Read(ref _sequence);
        if ((sequence & 1) != 0 || text.Length > Capacity
            || Interlocked.CompareExchange(ref _sequence, sequence + 1, sequence) != sequence)
        {
            return;
        }

        _bits = BitConverter.DoubleToUInt64Bits(value);
        _length = text.Length;
        text.CopyTo(_text);
        Volatile.Write(ref _sequence, sequence + 2); // release: the text is complete before it is seen
    }
}
