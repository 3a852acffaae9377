using Akka.Actor;
using AiShell.Pipeline.Collectors;

namespace AiShell.Pipeline.Actors;

/// <summary>A collector with its health record and self-metrics, as the supervisor starts it.</summary>
internal sealed record CollectorSlot(ICollector Collector, CollectorHealth Health, CollectorSelfMetrics Self);

/// <summary>
/// Parent of the collector actors. Every failure is counted (<c>aishell_collector_errors_total</c>),
/// drops <c>aishell_collector_up</c> to 0, and restarts the collector, which then backs off
/// exponentially before its next run. Other collectors and the scrape path are unaffected.
/// </summary>
internal sealed class CollectorSupervisorActor : UntypedActor
{
    private readonly IReadOnlyList<CollectorSlot> _slots;
    private readonly ShardChannels _channels;
    private readonly PipelineOptions _options;

    public CollectorSupervisorActor(IReadOnlyList<CollectorSlot> slots, ShardChannels channels, PipelineOptions options)
    {
        _slots = slots;
        _channels = channels;
        _options = options;
    }

    protected override void PreStart()
    {
        int index = 0;
        foreach (CollectorSlot slot in _slots)
        {
            ShardChannels channels = _channels;
            PipelineOptions options = _options;
            Context.ActorOf(Props.Create(() => new CollectorActor(slot.Collector, slot.Health, slot.Self, channels, options)),
                $"collector-{index++}");
        }
    }

    protected override void OnReceive(object message) => Unhandled(message);

    protected override SupervisorStrategy SupervisorStrategy() =>
        new OneForOneStrategy(-1, Timeout.InfiniteTimeSpan, Decide);

    private Directive Decide(Exception exception)
    {
        Exception cause = exception is ActorInitializationException { InnerException: { } inner } ? inner : exception;
        if (cause is CollectorFailedException failed)
        {
            foreach (CollectorSlot slot in _slots)
            {
                if (PipelineStatus.SourceName(slot.Collector.Name, slot.Collector.Database) == failed.CollectorSource)
                {
                    string error = failed.InnerException?.Message ?? failed.Message;
                    slot.Health.RecordFailure(_options.Time.GetUtcNow(), error);
                    slot.Self.Errors.AddAtomic(1);
                    slot.Self.Up.Set(0);
                    slot.Collector.OnRunFailed();
                    _options.Log?.Invoke($"collector {failed.CollectorSource} failed ({slot.Health.ConsecutiveFailures} in a row): {error}");
                }
            }
        }

        return Directive.Restart;
    }
}
