using System.Buffers.Text;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace AiShell.Pipeline.Metrics.Exposition;

/// <summary>Writes sample values as UTF-8 without allocating.</summary>
internal static class NumberFormatter
{
    private const double MaxExactInteger = 9007199254740992d; // 2^53

    /// <summary>Worst case: "-1.7976931348623157E+308" is 24 bytes.</summary>
    public const int MaxLength = 32;

    /// <summary>
    /// Whole numbers (most counters, gauges of bytes) take the integer path, which is several
    /// times cheaper than the shortest round-trip double formatting used for the rest. A series
    /// that passes a <paramref name="cache"/> (a histogram's or summary's sum) has a non-integer
    /// copied from it while it holds this value, and remembered there when it does not.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Write(Span<byte> destination, double value, Internal.ValueText? cache = null)
    {
        if (value == Math.Floor(value) && Math.Abs(value) < MaxExactInteger)
        {
            Utf8Formatter.TryFormat((long)value, destination, out int written);
            return written;
        }

        return WriteFraction(destination, value, cache);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Write(Span<byte> destination, long value)
    {
        Utf8Formatter.TryFormat(value, destination, out int written);
        return written;
    }

    private static int WriteFraction(Span<byte> destination, double value, Internal.ValueText? cache)
    {
        if (cache is null)
        {
            return WriteSlow(destination, value);
        }

        if (cache.TryCopy(value, destination, out int copied))
        {
            return copied;
        }

        int length = WriteSlow(destination, value);
        cache.Publish(value, destination[..length]);
        return length;
    }

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
