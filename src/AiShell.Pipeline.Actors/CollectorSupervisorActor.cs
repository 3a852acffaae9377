using AiShell.Pipeline.Metrics.Flow;
using Akka.Actor;
using AiShell.Pipeline.Collectors;

namespace AiShell.Pipeline.Actors;

/// <summary>A collector with its health record and self-metrics, as the supervisor starts it.</summary>
internal sealed record CollectorSlot(ICollector Collector, CollectorHealth Health, CollectorSelfMetrics Self)
{
    /// <summary><c>host</c>, <c>postgres/app1</c>: the collector's name in health, logs and self-metrics.</summary>
    public string Source => PipelineStatus.SourceOf(Collector);
}

/// <summary>
/// Parent of the collector actors. Every failure is counted (<c>aishell_collector_errors_total</c>),
/// drops <c>aishell_collector_up</c> to 0, and restarts the collector, which then backs off
/// exponentially before its next run. Other collectors and the scrape path are unaffected.
/// Collectors can be added and retired while running (a config reload that changes the databases).
/// </summary>
internal sealed class CollectorSupervisorActor : UntypedActor
{
    private readonly List<CollectorSlot> _slots;
    private readonly Dictionary<string, IActorRef> _children = new(StringComparer.Ordinal);
    private readonly ShardChannels _channels;
    private readonly PipelineOptions _options;
    private readonly FailureLogLimit _failureLog = new();
    private int _started;

    public CollectorSupervisorActor(IReadOnlyList<CollectorSlot> slots, ShardChannels channels, PipelineOptions options)
    {
        _slots = [.. slots];
        _channels = channels;
        _options = options;
    }

    protected override void PreStart()
    {
        foreach (CollectorSlot slot in _slots)
        {
            StartChild(slot);
        }
    }

    private void StartChild(CollectorSlot slot)
    {
        ShardChannels channels = _channels;
        PipelineOptions options = _options;
        IActorRef child = Context.ActorOf(FactoryProducer<CollectorActor>.Props(() => new CollectorActor(slot.Collector, slot.Health, slot.Self, channels, options)),
            $"collector-{_started++}");
        _children[slot.Source] = child;
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case SupervisorMessages.Add add:
                foreach (CollectorSlot slot in add.Slots)
                {
                    _slots.Add(slot);
                    StartChild(slot);
                }

                break;
            case SupervisorMessages.Remove remove:
                Retire(remove);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void Retire(SupervisorMessages.Remove remove)
    {
        var retiring = new List<Task>();
        foreach (string source in remove.Sources)
        {
            if (!_children.Remove(source, out IActorRef? child))
            {
                continue;
            }

            _slots.RemoveAll(slot => slot.Source == source);
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            child.Tell(new CollectorMessages.Retire(done));
            retiring.Add(done.Task);
        }

        TaskCompletionSource all = remove.Done;
        Task.WhenAll(retiring).ContinueWith(_ => all.TrySetResult(), TaskScheduler.Default);
    }

    protected override SupervisorStrategy SupervisorStrategy() =>
        new OneForOneStrategy(-1, -1, Decide, loggingEnabled: false); // Decide logs one line per failure

    private Directive Decide(Exception exception)
    {
        Exception cause = exception is ActorInitializationException { InnerException: { } inner } ? inner : exception;
        if (cause is CollectorFailedException failed)
        {
            foreach (CollectorSlot slot in _slots)
            {
                if (slot.Source == failed.CollectorSource)
                {
                    string error = failed.InnerException?.Message ?? failed.Message;
                    slot.Health.RecordFailure(_options.Time.GetUtcNow(), error);
                    slot.Self.Errors.Add(1);
                    slot.Self.Up.Set(0);
                    slot.Collector.OnRunFailed();
                    if (_options.Log is { } log
                        && _failureLog.Line(failed.CollectorSource, error, slot.Health.ConsecutiveFailures, _options.Time.GetUtcNow().ToUnixTimeMilliseconds()) is { } line)
                    {
                        log(_options.LogStackTraces ? $"{line}\n{failed.InnerException}" : line);
                    }
                }
            }
        }

        return Directive.Restart;
    }
}
