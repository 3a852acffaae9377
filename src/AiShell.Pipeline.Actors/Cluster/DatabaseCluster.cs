using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using AiShell.Pipeline.Metrics;

namespace AiShell.Pipeline.Actors.Cluster;

/// <summary>
/// This member's part in sharing the databases: the shard region of database entities, and a
/// ticker that asks the region, once per collect interval, for every database this member knows.
/// Sharding puts each database's entity on exactly one live member; that member collects it
/// (<see cref="IDatabaseOwner"/>). No remoting is on the event or scrape path: only these ticks,
/// Akka's membership gossip and the sharding coordinator's messages cross the network.
/// </summary>
public sealed class DatabaseCluster : IAsyncDisposable
{
    private readonly ActorSystem _system;
    private readonly Akka.Cluster.Cluster _cluster;
    private readonly IActorRef _region;
    private readonly Func<IReadOnlyCollection<string>> _databases;
    private readonly MetricFamily _members;
    private readonly Timer _ticker;
    private readonly ManualResetEventSlim _stopBeating = new();
    private readonly long _frozenAfter; // Stopwatch ticks: down_after
    private long _lastBeat;
    private int _frozen; // removed, or found frozen: withheld until the process exits
    private Action? _removed;
    private int _leaving;
    private readonly TimeSpan _interval;
    private long _beats;               // heartbeat thread only
    private int _membershipSignature;  // heartbeat thread only
    private long _fastTicksUntil;      // heartbeat thread only

    /// <summary>How often the freeze guard notes that this process runs.</summary>
    private static readonly TimeSpan BeatInterval = TimeSpan.FromMilliseconds(250);

    private DatabaseCluster(ActorSystem system, IActorRef region, Func<IReadOnlyCollection<string>> databases, MetricRegistry registry,
        TimeSpan interval, TimeSpan downAfter)
    {
        _system = system;
        _cluster = Akka.Cluster.Cluster.Get(system);
        _region = region;
        _databases = databases;
        _members = registry.Register(MetricCatalog.ClusterMembers);
        _interval = interval;
        _frozenAfter = (long)(downAfter.TotalSeconds * Stopwatch.Frequency);
        _lastBeat = Stopwatch.GetTimestamp();
        // A thread of its own rather than a pool timer: a pool busy starting collectors must not
        // look like a frozen process.
        new Thread(static state =>
        {
            var member = (DatabaseCluster)state!;
            while (!member._stopBeating.Wait(BeatInterval))
            {
                member.Beat();
            }
        }) { IsBackground = true, Name = "aishell-cluster-heartbeat" }.Start(this);
        _ticker = new Timer(static state => ((DatabaseCluster)state!).Tick(), this, TimeSpan.Zero, interval);
    }

    /// <summary>
    /// Why this member must not expose its databases, or null. A process that did not run for
    /// down_after (SIGSTOP, a frozen VM) may have been removed by the others while it slept, and its
    /// databases collected elsewhere since: from the moment it runs again until it has exited, it
    /// serves none of them. The scrape checks the gap itself, so that a scrape served before the
    /// heartbeat's first run after the wake is refused too.
    /// </summary>
    public string? Withheld()
    {
        // The beat first, then the flag: Beat sets the flag before it publishes a new beat, so a
        // scrape sees either the old beat's gap or the flag.
        long last = Volatile.Read(ref _lastBeat);
        return Volatile.Read(ref _frozen) != 0 || Stopwatch.GetTimestamp() - last > _frozenAfter
            ? "this cluster member was removed by the others, or did not run for longer than prometheus.cluster.down_after; its databases may be collected elsewhere, and it is restarting\n"
            : null;
    }

    private void Beat()
    {
        long now = Stopwatch.GetTimestamp();
        if (now - Volatile.Read(ref _lastBeat) > _frozenAfter && Volatile.Read(ref _leaving) == 0)
        {
            _removed?.Invoke(); // sets _frozen first
        }

        Volatile.Write(ref _lastBeat, now);
        if (++_beats % 4 == 0)
        {
            TickSoonAfterMembershipChanges(now);
        }
    }

    /// <summary>
    /// Entities are not remembered: a database whose member died runs again when a tick reaches
    /// the shard's new home. With only the interval's ticks that waited up to a whole collect
    /// interval (15 s by default) after the take-over; for 15 s after the members changed, this
    /// member ticks every second instead.
    /// </summary>
    private void TickSoonAfterMembershipChanges(long now)
    {
        ClusterEvent.CurrentClusterState state = _cluster.State;
        int signature = state.Unreachable.Count;
        foreach (Member m in state.Members)
        {
            signature = HashCode.Combine(signature, m.UniqueAddress.Uid, m.Status);
        }

        if (signature != _membershipSignature)
        {
            _membershipSignature = signature;
            _fastTicksUntil = now + (15 * Stopwatch.Frequency);
        }

        if (now < _fastTicksUntil && _interval > TimeSpan.FromSeconds(1))
        {
            Tick();
        }
    }

    /// <summary>
    /// Joins the cluster (the pipeline's actor system was created as a member: <see cref="PipelineOptions.Cluster"/>)
    /// and starts asking for <paramref name="databases"/> every <paramref name="interval"/>.
    /// <paramref name="removed"/> runs once when the others removed this member without it leaving (it
    /// was unreachable past down_after), or when this process did not run for down_after (it may
    /// have been removed meanwhile): it must not collect anything any more.
    /// </summary>
    public static DatabaseCluster Start(MetricsPipeline pipeline, IDatabaseOwner owner, TimeSpan interval, TimeSpan downAfter,
        Func<IReadOnlyCollection<string>> databases, Action removed)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(owner);
        ActorSystem system = pipeline.ActorSystem;
        // Every member ticks every database it knows once per interval, so an entity no tick reaches
        // is a database gone from every config. The floor keeps a member whose timers stalled for a
        // few seconds from stopping and restarting its databases (a new pg_stat_statements baseline).
        TimeSpan idleAfter = interval * 3 > TimeSpan.FromSeconds(30) ? interval * 3 : TimeSpan.FromSeconds(30);
        IActorRef region = ClusterSharding.Get(system).Start("database",
            database => FactoryProducer<DatabaseEntity>.Props(() => new DatabaseEntity(database, owner, idleAfter)),
            ClusterShardingSettings.Create(system), new DatabaseMessageExtractor());
        var member = new DatabaseCluster(system, region, databases, pipeline.Registry, interval, downAfter);
        int told = 0;
        member._removed = () =>
        {
            Volatile.Write(ref member._frozen, 1); // from now on /metrics is withheld
            if (Interlocked.Exchange(ref told, 1) == 0)
            {
                removed();
            }
        };
        member._cluster.RegisterOnMemberRemoved(() =>
        {
            if (Volatile.Read(ref member._leaving) == 0)
            {
                member._removed();
            }
        });
        return member;
    }

    private void Tick()
    {
        ClusterEvent.CurrentClusterState state = _cluster.State;
        int up = 0, joining = 0, leaving = 0, exiting = 0;
        foreach (Member m in state.Members)
        {
            switch (m.Status)
            {
                case MemberStatus.Up or MemberStatus.WeaklyUp: up++; break;
                case MemberStatus.Joining: joining++; break;
                case MemberStatus.Leaving: leaving++; break;
                case MemberStatus.Exiting: exiting++; break;
            }
        }

        _members.WithLabels("up").Set(up);
        _members.WithLabels("joining").Set(joining);
        _members.WithLabels("leaving").Set(leaving);
        _members.WithLabels("exiting").Set(exiting);
        _members.WithLabels("unreachable").Set(state.Unreachable.Count);
        if (Volatile.Read(ref _leaving) != 0 || _cluster.IsTerminated)
        {
            return;
        }

        foreach (string database in _databases())
        {
            _region.Tell(new CollectDatabase(database));
        }
    }

    /// <summary>
    /// The live members' HTTP addresses (HOST:PORT), this one included: Up, joining or leaving
    /// members this member can reach.
    /// </summary>
    public IReadOnlyList<string> HttpEndpoints()
    {
        // A loop, not LINQ over the tuples: each value-type instantiation is native code (60 KB here).
        var endpoints = new List<string>();
        foreach ((_, string http, string status) in Members())
        {
            if (http.Length > 0 && status is not ("down" or "removed" or "unreachable"))
            {
                endpoints.Add(http);
            }
        }

        return endpoints;
    }

    /// <summary>This member's address (<c>akka.tcp://NAME@HOST:PORT</c>).</summary>
    public string Self => _cluster.SelfAddress.ToString();

    /// <summary>Members as this one sees them: address, HTTP endpoint and status (unreachable wins over the membership status).</summary>
    public IReadOnlyList<(string Address, string Http, string Status)> Members()
    {
        ClusterEvent.CurrentClusterState state = _cluster.State;
        var members = new List<(string, string, string)>();
        foreach (Member m in state.Members)
        {
            string http = m.Roles.FirstOrDefault(r => r.StartsWith(ClusterOptions.HttpRolePrefix, StringComparison.Ordinal))?[ClusterOptions.HttpRolePrefix.Length..] ?? "";
            string status = state.Unreachable.Contains(m) ? "unreachable" : m.Status.ToString().ToLowerInvariant();
            members.Add((m.Address.ToString(), http, status));
        }

        return members;
    }

    /// <summary>
    /// Leaves the cluster in order: this member's shards are handed over (their databases stop
    /// here and start on the others at their next tick), then the member exits. Bounded by
    /// <paramref name="timeout"/>; the actor system stays up for the pipeline to stop.
    /// </summary>
    public async Task LeaveAsync(TimeSpan timeout)
    {
        if (Interlocked.Exchange(ref _leaving, 1) != 0)
        {
            return;
        }

        await _ticker.DisposeAsync();
        try
        {
            await CoordinatedShutdown.Get(_system).Run(CoordinatedShutdown.ClusterLeavingReason.Instance).WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            // The others take over after down_after, as for a crash.
        }

        _stopBeating.Set();
    }

    public async ValueTask DisposeAsync() => await LeaveAsync(TimeSpan.FromSeconds(15));
}
