using Akka.Actor;
using Akka.Configuration;
using AiShell.Pipeline.Collectors;
using AiShell.Pipeline.Metrics;

namespace AiShell.Pipeline.Actors;

/// <summary>
/// Composes the pull side: one supervised actor per collector writing batches into per-shard
/// bounded channels, and one aggregator actor per shard folding them into the registry. The scrape
/// path never talks to any of this: it serializes the registry's latest folded state.
/// </summary>
public sealed class MetricsPipeline : IAsyncDisposable
{
    private readonly ActorSystem _system;
    private readonly IActorRef _supervisor;
    private readonly Task[] _drained;
    private int _stopped;

    private MetricsPipeline(ActorSystem system, IActorRef supervisor, Task[] drained, MetricRegistry registry,
        ShardChannels channels, PipelineStatus status)
    {
        _system = system;
        _supervisor = supervisor;
        _drained = drained;
        Registry = registry;
        Channels = channels;
        Status = status;
    }

    public MetricRegistry Registry { get; }

    public ShardChannels Channels { get; }

    public PipelineStatus Status { get; }

    public static MetricsPipeline Start(MetricRegistry registry, IReadOnlyList<ICollector> collectors, PipelineOptions options)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(collectors);
        ArgumentNullException.ThrowIfNull(options);

        var slots = new List<CollectorSlot>(collectors.Count);
        foreach (ICollector collector in collectors)
        {
            collector.Register(registry);
            slots.Add(new CollectorSlot(collector, new CollectorHealth(collector.Name, collector.Database),
                new CollectorSelfMetrics(registry, collector.Name, collector.Database)));
        }

        var status = new PipelineStatus(slots.ConvertAll(s => s.Health), options.Time.GetUtcNow());
        var channels = new ShardChannels(options.Shards, options.MaxPendingSamples);
        MetricFamily samples = registry.Register(MetricCatalog.PipelineSamplesTotal);
        MetricFamily batches = registry.Register(MetricCatalog.PipelineBatchesTotal);
        Series pending = registry.Register(MetricCatalog.PipelinePendingSamples).WithLabels();
        pending.Set(0);

        ActorSystem system = ActorSystem.Create("aishell", ConfigurationFactory.ParseString(AkkaSettings.Hocon));
        var drained = new Task[channels.Count];
        var aggregators = new IActorRef[channels.Count];
        for (int shard = 0; shard < channels.Count; shard++)
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            drained[shard] = done.Task;
            string label = shard.ToString(System.Globalization.CultureInfo.InvariantCulture);
            int index = shard;
            var samplesSeries = samples.WithLabels(label);
            var batchesSeries = batches.WithLabels(label);
            aggregators[shard] = system.ActorOf(
                Props.Create(() => new AggregatorActor(channels, index, status, samplesSeries, batchesSeries, pending, done))
                    .WithDispatcher(AkkaSettings.AggregatorDispatcher),
                $"aggregator-{label}");
        }

        channels.Wake = shard => aggregators[shard].Tell(AggregatorMessages.Drain.Instance);

        IActorRef supervisor = system.ActorOf(
            Props.Create(() => new CollectorSupervisorActor(slots, channels, options)), "collectors");
        return new MetricsPipeline(system, supervisor, drained, registry, channels, status);
    }

    /// <summary>
    /// Stops collecting, folds every batch already in the channels, then ends the actor system.
    /// </summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        try
        {
            await _supervisor.GracefulStop(timeout);
        }
        catch (TaskCanceledException)
        {
            // Collectors that did not stop in time are ended with the system below.
        }

        Channels.Complete();
        await Task.WhenAll(_drained).WaitAsync(timeout).ContinueWith(static _ => { }, TaskScheduler.Default);
        await _system.Terminate().WaitAsync(timeout).ContinueWith(static _ => { }, TaskScheduler.Default);
    }

    public async ValueTask DisposeAsync() => await StopAsync(TimeSpan.FromSeconds(5));
}
