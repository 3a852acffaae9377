using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AiShell.Pipeline.Metrics.Exposition;

/// <summary>Writes sample values as UTF-8 without allocating, into destinations of at least <see cref="MaxLength"/> bytes.</summary>
internal static class NumberFormatter
{
    private const double MaxExactInteger = 9007199254740992d; // 2^53

    /// <summary>Worst case: "-1.7976931348623157E+308" is 24 bytes.</summary>
    public const int MaxLength = 32;

    /// <summary>
    /// Whole numbers (most counters, gauges of bytes) take the integer path, which is several
    /// times cheaper than the shortest round-trip double formatting used for the rest.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Write(Span<byte> destination, double value)
    {
        Debug.Assert(destination.Length >= MaxLength);
        if (IsWhole(value))
        {
            return LineWriter.WriteInteger(ref MemoryMarshal.GetReference(destination), (long)value);
        }

        return WriteSlow(destination, value);
    }

    /// <summary>
    /// As <see cref="Write(Span{byte}, double)"/>, for a value whose text is kept in
    /// <paramref name="cache"/> (a histogram's or summary's sum): a non-integer is copied from it
    /// while it holds this value, and remembered there when it does not.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Write(Span<byte> destination, double value, ref Internal.ValueText cache)
    {
        Debug.Assert(destination.Length >= MaxLength);
        if (IsWhole(value))
        {
            return LineWriter.WriteInteger(ref MemoryMarshal.GetReference(destination), (long)value);
        }

        if (cache.TryCopy(value, destination, out int copied))
        {
            return copied;
        }

        int length = WriteSlow(destination, value);
        cache.Publish(value, destination[..length]);
        return length;
    }

    /// <summary>
    /// A whole number that a long holds exactly. A round trip through long instead of
    /// <see cref="Math.Floor(double)"/>, which Native AOT's baseline instruction set (no SSE4.1)
    /// compiles to a call. NaN and the infinities fail the range test first.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsWhole(double value) => Math.Abs(value) < MaxExactInteger && (double)(long)value == value;

    private static int WriteSlow(Span<byte> destination, double value)
    {
        if (double.IsNaN(value))
        {
            "NaN"u8.CopyTo(destination);
            return 3;
        }

        if (double.IsPositiveInfinity(value))
        {
            "+Inf"u8.CopyTo(destination);
            return 4;
        }

        if (double.IsNegativeInfinity(value))
        {
            "-Inf"u8.CopyTo(destination);
            return 4;
        }

        value.TryFormat(destination, out int written, "R", CultureInfo.InvariantCulture);
        return written;
    }
}
