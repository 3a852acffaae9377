using Akka.Actor;
using AiShell.Pipeline.Collectors;
using AiShell.Pipeline.Metrics.Flow;

namespace AiShell.Pipeline.Actors;

/// <summary>
/// Runs one collector on its interval. The run itself (I/O, then writing batches to the shard
/// channels) happens off the actor thread and reports back with PipeTo; actor state is touched only
/// in <see cref="OnReceive"/>. A failed run is rethrown here so the supervisor restarts this actor;
/// the restarted instance waits out a backoff before its first run.
/// </summary>
internal sealed class CollectorActor : UntypedActor, IWithTimers
{
    private const string TimerKey = "collect";
    private readonly ICollector _collector;
    private readonly CollectorHealth _health;
    private readonly CollectorSelfMetrics _self;
    private readonly ShardChannels _channels;
    private readonly PipelineOptions _options;
    private readonly string _source;
    private bool _running;
    private TaskCompletionSource? _retired; // set once retiring: no more runs

    public CollectorActor(ICollector collector, CollectorHealth health, CollectorSelfMetrics self,
        ShardChannels channels, PipelineOptions options)
    {
        _collector = collector;
        _health = health;
        _self = self;
        _channels = channels;
        _options = options;
        _source = PipelineStatus.SourceOf(collector);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    protected override void PreStart()
    {
        TimeSpan delay = _options.Backoff(_health.ConsecutiveFailures);
        Timers.StartPeriodicTimer(TimerKey, CollectorMessages.Tick.Instance, delay, _options.CollectInterval);
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case CollectorMessages.Tick:
                OnTick();
                break;
            case CollectorMessages.Succeeded succeeded:
                OnSucceeded(succeeded);
                FinishRetiring();
                break;
            case CollectorMessages.Failed failed:
                _running = false;
                if (_retired is not null)
                {
                    FinishRetiring(); // leaving anyway: no restart, no failure to count
                    break;
                }

                throw new CollectorFailedException(_source, failed.Cause);
            case CollectorMessages.Retire retire:
                Timers.CancelAll();
                _retired = retire.Done;
                FinishRetiring();
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    /// <summary>Once retiring and no run is in flight: report and stop.</summary>
    private void FinishRetiring()
    {
        if (_retired is not null && !_running)
        {
            _retired.TrySetResult();
            Context.Stop(Self);
        }
    }

    private void OnTick()
    {
        if (_running || _retired is not null)
        {
            return; // the previous run is still writing: skip this tick rather than pile up
        }

        _running = true;
        RunAsync().PipeTo(Self, success: static done => done,
            failure: static ex => new CollectorMessages.Failed(ex));
    }

    private void OnSucceeded(CollectorMessages.Succeeded succeeded)
    {
        _running = false;
        DateTimeOffset now = _options.Time.GetUtcNow();
        if (_health.ConsecutiveFailures > 0)
        {
            _options.Log?.Invoke($"collector {_source} recovered after {_health.ConsecutiveFailures} failed run(s)");
        }

        _health.RecordSuccess(now, succeeded.Duration);
        _self.Up.Set(1);
        _self.Duration.Set(succeeded.Duration.TotalSeconds);
        _self.LastSuccess.Set(now.ToUnixTimeMilliseconds() / 1000.0);
    }

    private async Task<object> RunAsync()
    {
        long started = _options.Time.GetTimestamp();
        var builder = new SampleBatchBuilder(_source, _channels.Count);
        using var cts = new CancellationTokenSource(_options.EffectiveTimeout);
        Task collect = _collector.CollectAsync(builder, cts.Token).AsTask();
        try
        {
            // WaitAsync bounds even a collector that ignores its token.
            await collect.WaitAsync(_options.EffectiveTimeout + TimeSpan.FromMilliseconds(100));
        }
        catch (Exception ex) when (ex is TimeoutException || (ex is OperationCanceledException && cts.IsCancellationRequested))
        {
            // Not discarding the builder: a collector that ignored its token may still be writing to it.
            throw new TimeoutException($"collection took longer than {_options.EffectiveTimeout.TotalSeconds:0.###}s", ex);
        }
        catch
        {
            builder.Discard();
            throw;
        }

        List<SampleBatch> batches = builder.Build();
        if (batches.Count == 0)
        {
            _health.MarkFolded();
        }

        for (int i = 0; i < batches.Count; i++)
        {
            try
            {
                await _channels.WriteAsync(batches[i], cts.Token);
            }
            catch
            {
                for (int j = i; j < batches.Count; j++)
                {
                    batches[j].Release();
                }

                throw;
            }
        }

        return new CollectorMessages.Succeeded(_options.Time.GetElapsedTime(started));
    }
}
