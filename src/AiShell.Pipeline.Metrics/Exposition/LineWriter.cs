using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using AiShell.Pipeline.Metrics.Internal;

namespace AiShell.Pipeline.Metrics.Exposition;

/// <summary>
/// The two operations a sample line is made of, on raw references into a buffer the caller has
/// sized: copying a short piece of text and writing a whole number. A scrape of 100,000 series
/// writes about a million lines, each three copies and a number, so both avoid the general-purpose
/// paths: <see cref="Copy"/> moves whole vectors (sources and the destination carry
/// <see cref="Slack"/> bytes of room past the end for it) instead of calling a memmove that
/// dispatches on the length, and <see cref="WriteInteger"/> writes two digits per step from a table.
/// </summary>
internal static class LineWriter
{
    /// <summary>Readable bytes every copied source has after its end, and writable bytes a destination keeps after what a line needs.</summary>
    public const int Slack = LabelText.Slack;

    /// <summary>Longest whole number <see cref="WriteInteger"/> writes: "-9223372036854775808".</summary>
    public const int MaxIntegerLength = 20;

    /// <summary>
    /// Copies <paramref name="length"/> bytes, moving whole vectors: up to <see cref="Slack"/> bytes
    /// past the end are read and overwritten. Returns <paramref name="length"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Copy(ref byte destination, ref byte source, int length)
    {
        if (Vector256.IsHardwareAccelerated)
        {
            nuint i = 0;
            do
            {
                Vector256.LoadUnsafe(ref source, i).StoreUnsafe(ref destination, i);
                i += 32;
            }
            while (i < (nuint)length);
        }
        else
        {
            nuint i = 0;
            do
            {
                Vector128.LoadUnsafe(ref source, i).StoreUnsafe(ref destination, i);
                i += 16;
            }
            while (i < (nuint)length);
        }

        return length;
    }

    /// <summary>Most bytes <see cref="CopyBlock"/> moves: a sample line's name and label text usually fit.</summary>
    public const int Block = 128;

    /// <summary>
    /// Copies <paramref name="length"/> bytes (at most <see cref="Block"/>) as 64 bytes, then 32
    /// more while short of the length: unrolled vector moves (up to 31 bytes past the length), for
    /// a piece copied again and again at the same length (a histogram's line head), where a copy
    /// loop's exit branch mispredicted whenever the length changed from one series to the next.
    /// The two length tests are the same for every line of a series.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void CopyBlock(ref byte destination, ref byte source, int length)
    {
        Debug.Assert(length <= Block);
        Copy32(ref destination, ref source);
        Copy32(ref Unsafe.Add(ref destination, 32), ref Unsafe.Add(ref source, 32));
        if (length > 64)
        {
            Copy32(ref Unsafe.Add(ref destination, 64), ref Unsafe.Add(ref source, 64));
            if (length > 96)
            {
                Copy32(ref Unsafe.Add(ref destination, 96), ref Unsafe.Add(ref source, 96));
            }
        }
    }

    /// <summary>One 32-byte move, or two 16-byte ones where 32-byte vectors are not accelerated (Native AOT's default target).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Copy32(ref byte destination, ref byte source)
    {
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256.LoadUnsafe(ref source).StoreUnsafe(ref destination);
        }
        else
        {
            Vector128<byte> low = Vector128.LoadUnsafe(ref source, 0);
            Vector128<byte> high = Vector128.LoadUnsafe(ref source, 16);
            low.StoreUnsafe(ref destination, 0);
            high.StoreUnsafe(ref destination, 16);
        }
    }

    /// <summary>Copies <paramref name="text"/> from an array that has <see cref="Slack"/> bytes after it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Copy(ref byte destination, byte[] array, int offset, int length) =>
        Copy(ref destination, ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(array), offset), length);

    /// <summary>Writes <paramref name="value"/> in decimal; returns the number of bytes (at most <see cref="MaxIntegerLength"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int WriteInteger(ref byte destination, long value)
    {
        if ((ulong)value < 10)
        {
            destination = (byte)('0' + value);
            return 1;
        }

        if (value < 0)
        {
            destination = (byte)'-';
            return 1 + WriteUnsigned(ref Unsafe.Add(ref destination, 1), unchecked((ulong)-value));
        }

        return WriteUnsigned(ref destination, (ulong)value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)] // no call in a line loop: around one, every loop variable was spilled
    private static int WriteUnsigned(ref byte destination, ulong value)
    {
        int digits = CountDigits(value);
        ref byte pairs = ref MemoryMarshal.GetReference(DigitPairs);
        int at = digits;
        while (value >= 100)
        {
            ulong quotient = value / 100;
            int pair = (int)(value - (quotient * 100));
            value = quotient;
            at -= 2;
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref destination, at), Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref pairs, pair * 2)));
        }

        if (value >= 10)
        {
            Unsafe.WriteUnaligned(ref destination, Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref pairs, (int)value * 2)));
        }
        else
        {
            destination = (byte)('0' + value);
        }

        return digits;
    }

    /// <summary>Decimal digits of <paramref name="value"/> (at least 1): the bit length's estimate, corrected by one table compare.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int CountDigits(ulong value)
    {
        int estimate = ((BitOperations.Log2(value) + 1) * 1233) >> 12; // 1233 / 4096 ≈ log10(2)
        return estimate + (value >= PowersOfTen[estimate] ? 1 : 0);
    }

    private static ReadOnlySpan<ulong> PowersOfTen =>
    [
        1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000,
        10_000_000_000, 100_000_000_000, 1_000_000_000_000, 10_000_000_000_000, 100_000_000_000_000,
        1_000_000_000_000_000, 10_000_000_000_000_000, 100_000_000_000_000_000, 1_000_000_000_000_000_000,
        10_000_000_000_000_000_000,
    ];

    private static ReadOnlySpan<byte> DigitPairs =>
        "00010203040506070809101112131415161718192021222324252627282930313233343536373839"u8 +
        "40414243444546474849505152535455565758596061626364656667686970717273747576777879"u8 +
        "8081828384858687888990919293949596979899"u8;
}
