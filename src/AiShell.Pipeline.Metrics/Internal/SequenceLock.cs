namespace AiShell.Pipeline.Metrics.Internal;

/// <summary>
/// Guards a small cache that concurrent scrapes share and never wait on. A writer takes an odd
/// sequence number (or gives up when another writer holds one), fills the cache and publishes the
/// next even number; a reader copies the cache and keeps the copy only when the sequence was even
/// before and is unchanged after. Keep it in a non-readonly field: a copy guards nothing.
/// </summary>
internal struct SequenceLock
{
    private int _sequence;

    /// <summary>Starts a read; false while a writer holds the lock. The reads that follow stay after it (acquire).</summary>
    public bool TryBeginRead(out int token)
    {
        token = Volatile.Read(ref _sequence);
        return (token & 1) == 0;
    }

    /// <summary>Ends a read: true when no writer came in since <see cref="TryBeginRead"/>, so what was read is whole.</summary>
    public bool EndRead(int token)
    {
        Volatile.ReadBarrier(); // the reads before complete before the sequence is read again
        return Volatile.Read(ref _sequence) == token;
    }

    /// <summary>Takes the lock for writing; false when another writer holds it (the caller then skips the update).</summary>
    public bool TryEnterWrite(out int token)
    {
        token = Volatile.Read(ref _sequence);
        return (token & 1) == 0 && Interlocked.CompareExchange(ref _sequence, token + 1, token) == token;
    }

    /// <summary>Publishes what was written (release: it is complete before it is seen).</summary>
    public void ExitWrite(int token) => Volatile.Write(ref _sequence, token + 2);
}
