using AiShell.Pipeline.Actors;
using AiShell.Pipeline.Server;

namespace AiShell.Cli.Runtime;

/// <summary>The pipeline's readiness and collector health, as the HTTP server reports them.</summary>
internal sealed class PipelineStatusView(PipelineStatus status) : IExporterStatus
{
    public bool Ready => status.Ready;

    public DateTimeOffset StartedAt => status.StartedAt;

    public IReadOnlyList<CollectorStatus> Collectors()
    {
        var list = new List<CollectorStatus>(status.Collectors.Count);
        foreach (CollectorHealth health in status.Collectors)
        {
            CollectorHealthSnapshot s = health.Snapshot();
            list.Add(new CollectorStatus(s.Name, s.Database, s.Up, s.LastSuccess, s.LastError, s.LastErrorTime, s.LastDuration, s.TotalFailures));
        }

        return list;
    }
}
