using Akka.Actor;
using Akka.Configuration;
using AiShell.Pipeline.Collectors;
using AiShell.Pipeline.Metrics;
using AiShell.Pipeline.Metrics.Flow;

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
    private readonly Task[] _started;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, CollectorSlot> _slots; // by source name
    private readonly Dictionary<string, HashSet<MetricFamily>> _familiesByCollector; // by collector name
    private int _stopped;

    private MetricsPipeline(ActorSystem system, IActorRef supervisor, Task[] started, Task[] drained, MetricRegistry registry,
        ShardChannels channels, PipelineStatus status, List<CollectorSlot> slots,
        Dictionary<string, HashSet<MetricFamily>> familiesByCollector)
    {
        _system = system;
        _supervisor = supervisor;
        _started = started;
        _drained = drained;
        _slots = slots.ToDictionary(static s => s.Source, StringComparer.Ordinal);
        _familiesByCollector = familiesByCollector;
        Registry = registry;
        Channels = channels;
        Status = status;
    }

    public MetricRegistry Registry { get; }

    public ShardChannels Channels { get; }

    /// <summary>The actor system the pipeline runs in (a cluster member when started with <see cref="PipelineOptions.Cluster"/>).</summary>
    internal ActorSystem ActorSystem => _system;

    public PipelineStatus Status { get; }

    /// <summary>Every aggregator has run its PreStart (true from the moment <see cref="Start"/> returns).</summary>
    internal bool AggregatorsRunning => Array.TrueForAll(_started, static t => t.IsCompleted);

    private static readonly TimeSpan AggregatorStartTimeout = TimeSpan.FromSeconds(30);

    public static MetricsPipeline Start(MetricRegistry registry, IReadOnlyList<ICollector> collectors, PipelineOptions options)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(collectors);
        ArgumentNullException.ThrowIfNull(options);

        var familiesByCollector = new Dictionary<string, HashSet<MetricFamily>>(StringComparer.Ordinal);
        List<CollectorSlot> slots = Prepare(registry, collectors, familiesByCollector);

        var status = new PipelineStatus(slots.ConvertAll(s => s.Health), options.Time.GetUtcNow());
        var channels = new ShardChannels(options.Shards, options.MaxPendingSamples);
        MetricFamily samples = registry.Register(MetricCatalog.PipelineSamplesTotal);
        MetricFamily batches = registry.Register(MetricCatalog.PipelineBatchesTotal);
        Series pending = registry.Register(MetricCatalog.PipelinePendingSamples).WithLabels();
        pending.Set(0);

        TimeSpan tick = AkkaSettings.SchedulerTick(options.CollectInterval, options.MinBackoff);
        Config config = ConfigurationFactory.ParseString(
                $"akka.aggregator-dispatcher.aggregator-executor.thread-count = {channels.Count}\n" +
                $"akka.scheduler.tick-duration = {(int)tick.TotalMilliseconds}ms\n{AkkaSettings.LogLevelOverride()}")
            .WithFallback(ConfigurationFactory.ParseString(AkkaSettings.Hocon));
        if (options.Cluster is { } cluster)
        {
            config = ConfigurationFactory.ParseString(cluster.Hocon()).WithFallback(config);
            // Akka's per-thread randoms start from one seed, which the native build fixes at 0
            // (AkkaSubstitutions.xml: drawing it loaded OpenSSL into every exporter). A member's
            // address UID comes from it, and two incarnations of a member must not share one.
            ThreadLocalRandomSeed(null) = Random.Shared.Next();
        }

        // A cluster's name is its actor system's: members of another name never join.
        ActorSystem system = ActorSystem.Create(options.Cluster?.Name ?? "aishell", config);
        var drained = new Task[channels.Count];
        var started = new Task[channels.Count];
        var aggregators = new IActorRef[channels.Count];
        for (int shard = 0; shard < channels.Count; shard++)
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            drained[shard] = done.Task;
            var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            started[shard] = running.Task;
            string label = shard.ToString(System.Globalization.CultureInfo.InvariantCulture);
            int index = shard;
            var samplesSeries = samples.WithLabels(label);
            var batchesSeries = batches.WithLabels(label);
            aggregators[shard] = system.ActorOf(
                FactoryProducer<AggregatorActor>.Props(() => new AggregatorActor(channels, index, status, samplesSeries, batchesSeries, pending, running, done))
                    .WithDispatcher(AkkaSettings.AggregatorDispatcher),
                $"aggregator-{label}");
        }

        // A top-level actor is created by the user guardian, which runs on the thread pool: until
        // it has done so, messages to the actor wait. Producers that block pool threads (in-process
        // recorders waiting for room) could starve the guardian before it got to the aggregators,
        // and then nothing ever drained: wait here, while the pool is still free, until both run.
        if (!Task.WaitAll(started, AggregatorStartTimeout))
        {
            system.Terminate().Wait(AggregatorStartTimeout);
            throw new InvalidOperationException($"The pipeline's aggregators did not start within {AggregatorStartTimeout.TotalSeconds:0} s.");
        }

        channels.Wake = shard => aggregators[shard].Tell(AggregatorMessages.Drain.Instance);

        IActorRef supervisor = system.ActorOf(
            FactoryProducer<CollectorSupervisorActor>.Props(() => new CollectorSupervisorActor(slots, channels, options)), "collectors");
        return new MetricsPipeline(system, supervisor, started, drained, registry, channels, status, slots, familiesByCollector);
    }

    [System.Runtime.CompilerServices.UnsafeAccessor(System.Runtime.CompilerServices.UnsafeAccessorKind.StaticField, Name = "_seed")]
    private static extern ref int ThreadLocalRandomSeed(
        [System.Runtime.CompilerServices.UnsafeAccessorType("Akka.Util.ThreadLocalRandom, Akka")] object? type);

    /// <summary>Registers each collector's families (remembering which families a kind of collector writes) and builds its slot.</summary>
    private static List<CollectorSlot> Prepare(MetricRegistry registry, IEnumerable<ICollector> collectors,
        Dictionary<string, HashSet<MetricFamily>> familiesByCollector)
    {
        var slots = new List<CollectorSlot>();
        foreach (ICollector collector in collectors)
        {
            int before = registry.Families.Length;
            collector.Register(registry);
            if (!familiesByCollector.TryGetValue(collector.Name, out HashSet<MetricFamily>? written))
            {
                familiesByCollector[collector.Name] = written = [];
            }

            foreach (MetricFamily family in registry.Families[before..])
            {
                written.Add(family);
            }

            slots.Add(new CollectorSlot(collector, new CollectorHealth(collector.Name, collector.Database),
                new CollectorSelfMetrics(registry, collector.Name, collector.Database)));
        }

        return slots;
    }

    /// <summary>
    /// Starts collectors while running (a config reload added databases). A collector whose source
    /// (name and database) is already running is ignored.
    /// </summary>
    public void AddCollectors(IReadOnlyList<ICollector> collectors)
    {
        ArgumentNullException.ThrowIfNull(collectors);
        lock (_gate)
        {
            List<CollectorSlot> slots = Prepare(Registry, collectors.Where(c => !_slots.ContainsKey(PipelineStatus.SourceOf(c))),
                _familiesByCollector);
            foreach (CollectorSlot slot in slots)
            {
                _slots[slot.Source] = slot;
            }

            Status.Change(slots.ConvertAll(static s => s.Health), []);
            _supervisor.Tell(new SupervisorMessages.Add(slots));
        }
    }

    /// <summary>
    /// Retires collectors (a config reload removed databases): a run in flight finishes, then the
    /// series their kind of collector wrote for their database leave the exposition (cleared through
    /// the channels, so after every batch the collector handed over). Nothing is reset: a database
    /// that comes back continues its counters.
    /// </summary>
    public async Task RemoveCollectorsAsync(IReadOnlyList<ICollector> collectors, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(collectors);
        var removed = new List<CollectorSlot>();
        lock (_gate)
        {
            foreach (ICollector collector in collectors)
            {
                if (_slots.Remove(PipelineStatus.SourceOf(collector), out CollectorSlot? slot))
                {
                    removed.Add(slot);
                }
            }
        }

        if (removed.Count == 0)
        {
            return;
        }

        List<string> sources = removed.ConvertAll(static s => s.Source);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _supervisor.Tell(new SupervisorMessages.Remove(sources, done));
        await done.Task.WaitAsync(timeout);
        Status.Change([], sources);

        // The per-run self-metrics families (duration, last success by view and database) are shared
        // by every kind of collector, so they are not in any one kind's set.
        MetricFamily[] selfFamilies = [Registry.Register(MetricCatalog.CollectorDurationSeconds), Registry.Register(MetricCatalog.CollectorLastSuccess)];
        var builder = new SampleBatchBuilder("reload", Channels.Count);
        foreach (CollectorSlot slot in removed)
        {
            slot.Self.Clear();
            if (slot.Collector.Database.Length > 0 && _familiesByCollector.TryGetValue(slot.Collector.Name, out HashSet<MetricFamily>? families))
            {
                ClearDatabase(builder, families.Concat(selfFamilies), slot.Collector.Database);
            }
        }

        foreach (SampleBatch batch in builder.Build())
        {
            await Channels.WriteAsync(batch, CancellationToken.None);
        }
    }

    private static void ClearDatabase(SampleBatchBuilder builder, IEnumerable<MetricFamily> families, string database)
    {
        foreach (MetricFamily family in families)
        {
            int index = Array.IndexOf(family.LabelNames, "database");
            if (index < 0)
            {
                continue;
            }

            foreach (Series series in family.AllSeries())
            {
                if (series.LabelValues[index] == database)
                {
                    builder.Clear(series);
                }
            }
        }
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
