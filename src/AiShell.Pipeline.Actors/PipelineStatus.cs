namespace AiShell.Pipeline.Actors;

/// <summary>Readiness and per-collector health, shared between the actors and the HTTP layer.</summary>
public sealed class PipelineStatus
{
    private readonly Dictionary<string, CollectorHealth> _bySource;

    internal PipelineStatus(IReadOnlyList<CollectorHealth> collectors, DateTimeOffset startedAt)
    {
        Collectors = collectors;
        StartedAt = startedAt;
        _bySource = new Dictionary<string, CollectorHealth>(StringComparer.Ordinal);
        foreach (CollectorHealth health in collectors)
        {
            _bySource[SourceName(health.Name, health.Database)] = health;
        }
    }

    public IReadOnlyList<CollectorHealth> Collectors { get; }

    public DateTimeOffset StartedAt { get; }

    /// <summary>True once every collector's first run has been folded (or has failed, which is also an answer).</summary>
    public bool Ready
    {
        get
        {
            foreach (CollectorHealth health in Collectors)
            {
                if (!health.Settled)
                {
                    return false;
                }
            }

            return true;
        }
    }

    internal static string SourceName(string collector, string database) =>
        database.Length == 0 ? collector : collector + "/" + database;

    internal void MarkFolded(string source)
    {
        if (_bySource.TryGetValue(source, out CollectorHealth? health))
        {
            health.MarkFolded();
        }
    }
}
