using System.Buffers;

namespace AiShell.Pipeline.Metrics.Flow;

/// <summary>
/// The arrays batches travel in, reused: the aggregator returns each one after folding its batch.
/// <para>
/// Arrays of up to <see cref="SampleBatchBuilder.StreamingCapacity"/> samples, the size every
/// streaming producer (the in-process recorder, UDP ingest) hands over in, come from a stack of
/// their own that grows with what is in flight, up to <see cref="MaxPooledSmall"/>: a saturated
/// pipeline holds its whole budget (two million samples by default) in them, about 8,000 arrays.
/// A fixed-size pool that kept 1,024 per size once let every further batch allocate and zero a
/// fresh array, and the collector scan it: a fifth of the pipeline's instructions. The stack is
/// a lock and an array: one rent per shard per hand-over and one return per fold, each a few
/// nanoseconds against the 250 samples the array carries; it costs no memory until used.
/// </para>
/// <para>
/// Larger arrays (collector runs, HTTP requests) come from a <see cref="ArrayPool{T}"/> of their
/// own (not ArrayPool.Shared, whose per-core stacks hold 8 arrays per size). Arrays are not cleared
/// on return: the series they point at live as long as the registry.
/// </para>
/// </summary>
internal static class SampleArrays
{
    /// <summary>Small arrays kept at most: twice the default budget in half-full arrays' worth (128 MiB).</summary>
    internal const int MaxPooledSmall = 16_384;

    private static readonly ArrayPool<Sample> Large = ArrayPool<Sample>.Create(1 << 20, 1024);
    private static readonly Lock Gate = new();
    private static Sample[][] s_small = new Sample[256][];
    private static int s_smallCount;

    public static Sample[] Rent(int minimumLength)
    {
        if (minimumLength > SampleBatchBuilder.StreamingCapacity)
        {
            return Large.Rent(minimumLength);
        }

        lock (Gate)
        {
            if (s_smallCount > 0)
            {
                Sample[] reused = s_small[--s_smallCount];
                s_small[s_smallCount] = null!;
                return reused;
            }
        }

        return new Sample[SampleBatchBuilder.StreamingCapacity];
    }

    public static void Return(Sample[] array)
    {
        if (array.Length != SampleBatchBuilder.StreamingCapacity)
        {
            Large.Return(array);
            return;
        }

        lock (Gate)
        {
            if (s_smallCount == s_small.Length)
            {
                if (s_smallCount >= MaxPooledSmall)
                {
                    return; // beyond what any default budget holds: let the collector have it
                }

                Array.Resize(ref s_small, s_smallCount * 2);
            }

            s_small[s_smallCount++] = array;
        }
    }
}
