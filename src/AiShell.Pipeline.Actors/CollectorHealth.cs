namespace AiShell.Pipeline.Actors;

/// <summary>
/// What the status endpoint reports about one collector. Written by its actor and supervisor,
/// read by HTTP handlers; a small lock keeps the fields consistent with each other.
/// </summary>
public sealed class CollectorHealth
{
    private readonly Lock _gate = new();
    private DateTimeOffset? _lastSuccess;
    private DateTimeOffset? _lastErrorTime;
    private string? _lastError;
    private TimeSpan _lastDuration;
    private int _consecutiveFailures;
    private long _totalFailures;
    private bool _settled;

    public CollectorHealth(string name, string database)
    {
        Name = name;
        Database = database;
    }

    public string Name { get; }

    public string Database { get; }

    /// <summary>True once the first run was folded, or has failed: the exporter can answer for it.</summary>
    public bool Settled
    {
        get { lock (_gate) { return _settled; } }
    }

    public int ConsecutiveFailures
    {
        get { lock (_gate) { return _consecutiveFailures; } }
    }

    public CollectorHealthSnapshot Snapshot()
    {
        lock (_gate)
        {
            return new CollectorHealthSnapshot(Name, Database, _consecutiveFailures == 0 && _lastSuccess is not null,
                _lastSuccess, _lastError, _lastErrorTime, _lastDuration, _totalFailures);
        }
    }

    internal void RecordSuccess(DateTimeOffset at, TimeSpan duration)
    {
        lock (_gate)
        {
            _lastSuccess = at;
            _lastDuration = duration;
            _consecutiveFailures = 0;
        }
    }

    internal void MarkFolded()
    {
        lock (_gate)
        {
            _settled = true;
        }
    }

    internal void RecordFailure(DateTimeOffset at, string error)
    {
        lock (_gate)
        {
            _lastError = error;
            _lastErrorTime = at;
            _consecutiveFailures++;
            _totalFailures++;
            _settled = true;
        }
    }
}

public sealed record CollectorHealthSnapshot(string Name, string Database, bool Up, DateTimeOffset? LastSuccess,
    string? LastError, DateTimeOffset? LastErrorTime, TimeSpan LastDuration, long TotalFailures);
