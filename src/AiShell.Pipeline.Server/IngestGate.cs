namespace AiShell.Pipeline.Server;

/// <summary>
/// What bounds the memory of HTTP ingest whatever the number of clients: body bytes in flight
/// (reserved before a body is read, from Content-Length, or as a chunked body grows) and large
/// parses at once (one per core: parsing is CPU work, and each parse holds its samples until the
/// hand-over, 32 bytes per event: 3.6 MB for a 4 MiB body of short events). Each byte in flight
/// costs about a byte of RSS: 160 concurrent 4 MiB bodies peaked at 95-134 MB with the default
/// 32 MiB budget, 141-166 MB with 64 MiB, ~1 GB with no budget.
/// </summary>
internal sealed class IngestGate(long maxInflightBytes)
{
    private long _inflight;
    private long _peak;

    /// <summary>Parses that may run at once; the others wait without holding a thread.</summary>
    public SemaphoreSlim Parsing { get; } = new(Environment.ProcessorCount, Environment.ProcessorCount);

    public long MaxInflightBytes => maxInflightBytes;

    public long InFlight => Volatile.Read(ref _inflight);

    /// <summary>Takes <paramref name="bytes"/> more of the budget, or nothing when they do not fit.</summary>
    public bool TryReserve(long bytes)
    {
        long current = Volatile.Read(ref _inflight);
        while (true)
        {
            long next = current + bytes;
            if (next > maxInflightBytes)
            {
                return false;
            }

            long seen = Interlocked.CompareExchange(ref _inflight, next, current);
            if (seen == current)
            {
                if (next > Volatile.Read(ref _peak))
                {
                    Volatile.Write(ref _peak, next);
                }

                return true;
            }

            current = seen;
        }
    }

    public void Release(long bytes) => Interlocked.Add(ref _inflight, -bytes);

    /// <summary>The most bytes in flight since the last call, when nothing is in flight now; else 0.</summary>
    public long TakeIdlePeak() => InFlight == 0 ? Interlocked.Exchange(ref _peak, 0) : 0;
}
