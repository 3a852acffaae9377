using System.Runtime.CompilerServices;

namespace AiShell.Pipeline.Metrics.Internal;

/// <summary>Room on the stack for a few label values, so projecting a label set allocates nothing.</summary>
[InlineArray(Length)]
internal struct LabelValueBuffer
{
    public const int Length = 8;
    private string _first;

    /// <summary>
    /// The values at <paramref name="indexes"/> of <paramref name="source"/>, written into
    /// <paramref name="room"/> (a caller's buffer) or, when it is too small, into a new array.
    /// </summary>
    public static Span<string> Project(ReadOnlySpan<string> source, int[] indexes, Span<string> room)
    {
        Span<string> values = indexes.Length <= room.Length ? room[..indexes.Length] : new string[indexes.Length];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = source[indexes[i]];
        }

        return values;
    }
}
