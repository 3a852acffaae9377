namespace AiShell.Pipeline.Metrics.Flow;

/// <summary>Where producers hand their batches: the shard channels in front of the aggregators.</summary>
public interface ISampleSink
{
    /// <summary>Aggregator shards; a builder for this sink splits by <c>Ordinal % Shards</c>.</summary>
    int Shards { get; }

    /// <summary>All or nothing: true when every batch was admitted and queued.</summary>
    bool TryWriteAll(IReadOnlyList<SampleBatch> batches);

    /// <summary>Samples admitted and not yet folded.</summary>
    long Pending { get; }

    /// <summary>
    /// Blocks until the aggregators have made room (pending below half the budget) or the timeout
    /// passes, for producers that wait rather than drop. Blocking, not spinning: on two cores a
    /// spinning producer takes the CPU the aggregators need to make that room.
    /// </summary>
    bool WaitForRoom(TimeSpan timeout);
}
