namespace AiShell.Pipeline.Server;

/// <summary>
/// What the server reports about the exporter's sources on <c>/ready</c> and <c>/api/v1/status</c>.
/// The server knows nothing of how sources run (actors, in the exporter); the host adapts its
/// pipeline's status to this.
/// </summary>
public interface IExporterStatus
{
    /// <summary>True once every collector's first run has been folded or has failed; stays true.</summary>
    bool Ready { get; }

    DateTimeOffset StartedAt { get; }

    /// <summary>The collectors' health now, one consistent record each.</summary>
    IReadOnlyList<CollectorStatus> Collectors();
}

/// <summary>One collector's health as <c>/api/v1/status</c> shows it.</summary>
public sealed record CollectorStatus(string Name, string Database, bool Up, DateTimeOffset? LastSuccess,
    string? LastError, DateTimeOffset? LastErrorTime, TimeSpan LastDuration, long TotalFailures);

/// <summary>A cluster member's view for <c>/api/v1/status</c>: the members it sees and the databases it collects.</summary>
public sealed record ClusterStatus(string Name, string Self, IReadOnlyList<ClusterMemberStatus> Members, IReadOnlyList<string> Databases);

/// <summary>One member as another sees it: Akka address, HTTP endpoint (HOST:PORT), status (up, joining, leaving, exiting, unreachable...).</summary>
public sealed record ClusterMemberStatus(string Address, string Http, string Status);
