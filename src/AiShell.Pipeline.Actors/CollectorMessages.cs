namespace AiShell.Pipeline.Actors;

internal static class CollectorMessages
{
    /// <summary>Time to collect.</summary>
    public sealed record Tick
    {
        public static readonly Tick Instance = new();

        private Tick()
        {
        }
    }

    /// <summary>A run finished and its batches are in the channels.</summary>
    public sealed record Succeeded(TimeSpan Duration);

    /// <summary>A run threw or timed out.</summary>
    public sealed record Failed(Exception Cause);

    /// <summary>
    /// Stop collecting for good (the database left the config): finish a run in flight, so that all
    /// of its batches are in the channels, then complete <paramref name="Done"/> and stop.
    /// </summary>
    public sealed record Retire(TaskCompletionSource Done);
}

/// <summary>Messages to the collector supervisor: collectors added and removed while running (config reload).</summary>
internal static class SupervisorMessages
{
    public sealed record Add(IReadOnlyList<CollectorSlot> Slots);

    /// <summary>Retires the collectors of these sources; <paramref name="Done"/> completes when all have stopped.</summary>
    public sealed record Remove(IReadOnlyList<string> Sources, TaskCompletionSource Done);
}

/// <summary>A collector run failed; the supervisor counts it and restarts the collector with backoff.</summary>
public sealed class CollectorFailedException : Exception
{
    public CollectorFailedException(string source, Exception inner)
        : base($"collector {source} failed: {inner.Message}", inner) => CollectorSource = source;

    public CollectorFailedException()
        : base("collector failed") => CollectorSource = "";

    public CollectorFailedException(string message)
        : base(message) => CollectorSource = "";

    /// <summary>The collector's source name (<c>host</c>, <c>postgres/app1</c>).</summary>
    public string CollectorSource { get; }
}
