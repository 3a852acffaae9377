namespace AiShell.Pipeline.Actors;

public sealed class PipelineOptions
{
    /// <summary>Aggregator shards, each a single writer over its series. Default: one per core, at least 2.</summary>
    public int Shards { get; init; } = Math.Max(2, Environment.ProcessorCount);

    /// <summary>
    /// Samples admitted but not yet folded, across all shards (about 40 bytes each). When the budget
    /// is spent collectors wait, HTTP ingest answers 429 and UDP ingest drops and counts; see
    /// <see cref="ShardChannels"/>.
    /// </summary>
    public long MaxPendingSamples { get; init; } = 2_000_000;

    public TimeSpan CollectInterval { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Most time one collector run may take before it counts as failed.</summary>
    public TimeSpan? CollectTimeout { get; init; }

    public TimeSpan MinBackoff { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(60);

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Where collector failures and recoveries are reported (one line each, repeats limited); none when null.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>Debug logging: each logged collector failure carries the exception with its stack trace.</summary>
    public bool LogStackTraces { get; init; }

    /// <summary>Cluster membership (<c>prometheus.cluster.*</c>); null: a single node, nothing of the cluster loaded.</summary>
    public Cluster.ClusterOptions? Cluster { get; init; }

    internal TimeSpan EffectiveTimeout => CollectTimeout ?? CollectInterval;

    /// <summary>min * 2^(failures-1), capped at max, with up to 20% jitter so restarts do not align.</summary>
    internal TimeSpan Backoff(int consecutiveFailures)
    {
        if (consecutiveFailures <= 0)
        {
            return TimeSpan.Zero;
        }

        double seconds = MinBackoff.TotalSeconds * Math.Pow(2, Math.Min(consecutiveFailures - 1, 30));
        seconds = Math.Min(seconds, MaxBackoff.TotalSeconds);
        return TimeSpan.FromSeconds(seconds * (1 + (Random.Shared.NextDouble() * 0.2)));
    }
}
