namespace AiShell.Pipeline.Actors;

/// <summary>
/// Readiness and per-collector health, shared between the actors and the HTTP layer. The set of
/// collectors changes only on a config reload: it is replaced whole, so readers never lock.
/// </summary>
public sealed class PipelineStatus
{
    private State _state;
    private volatile bool _wasReady;

    internal PipelineStatus(IReadOnlyList<CollectorHealth> collectors, DateTimeOffset startedAt)
    {
        _state = new State(collectors);
        StartedAt = startedAt;
    }

    public IReadOnlyList<CollectorHealth> Collectors => Volatile.Read(ref _state).Collectors;

    public DateTimeOffset StartedAt { get; }

    /// <summary>
    /// True once every collector's first run has been folded (or has failed, which is also an
    /// answer). Once true it stays true: a database added by a reload does not take a serving
    /// exporter out of its load balancer while its first collection runs.
    /// </summary>
    public bool Ready
    {
        get
        {
            if (_wasReady)
            {
                return true;
            }

            foreach (CollectorHealth health in Collectors)
            {
                if (!health.Settled)
                {
                    return false;
                }
            }

            _wasReady = true;
            return true;
        }
    }

    internal static string SourceName(string collector, string database) =>
        database.Length == 0 ? collector : collector + "/" + database;

    internal static string SourceOf(Collectors.ICollector collector) => SourceName(collector.Name, collector.Database);

    internal void MarkFolded(string source)
    {
        if (Volatile.Read(ref _state).BySource.TryGetValue(source, out CollectorHealth? health))
        {
            health.MarkFolded();
        }
    }

    /// <summary>Adds and removes collectors (the caller serializes reloads).</summary>
    internal void Change(IEnumerable<CollectorHealth> added, IReadOnlyCollection<string> removedSources)
    {
        var next = new List<CollectorHealth>();
        foreach (CollectorHealth health in Collectors)
        {
            if (!removedSources.Contains(SourceName(health.Name, health.Database)))
            {
                next.Add(health);
            }
        }

        next.AddRange(added);
        Volatile.Write(ref _state, new State(next));
    }

    private sealed class State
    {
        public State(IReadOnlyList<CollectorHealth> collectors)
        {
            Collectors = collectors;
            foreach (CollectorHealth health in collectors)
            {
                BySource[SourceName(health.Name, health.Database)] = health;
            }
        }

        public IReadOnlyList<CollectorHealth> Collectors { get; }

        public Dictionary<string, CollectorHealth> BySource { get; } = new(StringComparer.Ordinal);
    }
}
