using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AiShell.Pipeline.Metrics;

/// <summary>
/// A seeded 64-bit hash for short keys (label values, as UTF-16 in the series index and as UTF-8
/// in the ingest parsers' string pools). Its first and last eight bytes each go through a seeded
/// multiply, in parallel; longer keys first run a multiply–xorshift chain over the rest. Not a
/// cryptographic hash: callers pick a random seed per table, so colliding keys cannot be
/// precomputed, and bound how long a probe sequence may get.
/// </summary>
public static class ShortHash
{
    private const ulong Multiplier = 0x9E3779B97F4A7C15UL; // 2^64 / golden ratio, odd
    private const ulong Multiplier2 = 0xC2B2AE3D27D4EB4FUL; // xxHash64's prime 2

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Of(ReadOnlySpan<byte> key, ulong seed) => Of(ref MemoryMarshal.GetReference(key), key.Length, seed);

    /// <summary>
    /// The <paramref name="length"/> bytes at <paramref name="start"/>. Unaligned reads through a ref:
    /// every read lies inside the key (the length arithmetic checks it), and bounds-checked span
    /// slicing cost twice as much in the series lookup.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong Of(ref byte start, int length, ulong seed)
    {
        int n = length;
        ulong head, tail;
        if ((uint)(n - 8) <= 8)
        {
            // 8 to 16 bytes, the usual label value (4 to 8 UTF-16 characters) and tested first: the
            // first and the last eight bytes (overlapping when shorter than 16) fix the key.
            head = Unsafe.ReadUnaligned<ulong>(ref start);
            tail = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, n - 8));
        }
        else if (n > 16)
        {
            // Long keys: a multiply–xorshift chain over the leading whole 8-byte blocks; the last
            // 16 bytes go through the two parallel multiplies below.
            ulong h = seed;
            for (int i = 0; i < n - 16; i += 8)
            {
                h = (h ^ Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, i))) * Multiplier;
                h ^= h >> 29;
            }

            head = h ^ Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, n - 16));
            tail = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, n - 8));
        }
        else if (n >= 4)
        {
            head = Unsafe.ReadUnaligned<uint>(ref start);
            tail = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref start, n - 4));
        }
        else
        {
            // One to three bytes: the first, the middle and the last fix them.
            head = n == 0 ? 0UL : start | ((ulong)Unsafe.Add(ref start, n >> 1) << 8) | ((ulong)Unsafe.Add(ref start, n - 1) << 16);
            tail = 0;
        }

        // Two independent multiplies keep the dependency chain short; the seed enters before each,
        // so which keys collide depends on it. The length separates ("ab", "c") from ("a", "bc").
        return ((head ^ seed) * Multiplier) ^ ((tail ^ ~seed) * Multiplier2) ^ (ulong)n;
    }
}
