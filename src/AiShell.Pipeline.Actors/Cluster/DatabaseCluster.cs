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
    private int _leaving;

    private DatabaseCluster(ActorSystem system, IActorRef region, Func<IReadOnlyCollection<string>> databases, MetricRegistry registry, TimeSpan interval)
    {
        _system = system;
        _cluster = Akka.Cluster.Cluster.Get(system);
        _region = region;
        _databases = databases;
        _members = registry.Register(MetricCatalog.ClusterMembers);
        _ticker = new Timer(static state => ((DatabaseCluster)state!).Tick(), this, TimeSpan.Zero, interval);
    }

    /// <summary>
    /// Joins the cluster (the pipeline's actor system was created as a member: <see cref="PipelineOptions.Cluster"/>)
    /// and starts asking for <paramref name="databases"/> every <paramref name="interval"/>.
    /// <paramref name="removed"/> runs when the others removed this member without it leaving (it
    /// was unreachable past down_after): it must not collect anything any more.
    /// </summary>
    public static DatabaseCluster Start(MetricsPipeline pipeline, IDatabaseOwner owner, TimeSpan interval,
        Func<IReadOnlyCollection<string>> databases, Action removed)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(owner);
        ActorSystem system = pipeline.ActorSystem;
        TimeSpan idleAfter = interval * 2;
        IActorRef region = ClusterSharding.Get(system).Start("database",
            database => FactoryProducer<DatabaseEntity>.Props(() => new DatabaseEntity(database, owner, idleAfter)),
            ClusterShardingSettings.Create(system), new DatabaseMessageExtractor());
        var member = new DatabaseCluster(system, region, databases, pipeline.Registry, interval);
        member._cluster.RegisterOnMemberRemoved(() =>
        {
            if (Volatile.Read(ref member._leaving) == 0)
            {
                removed();
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
        ClusterEvent.CurrentClusterState state = _cluster.State;
        var endpoints = new List<string>();
        foreach (Member m in state.Members)
        {
            if (m.Status is MemberStatus.Down or MemberStatus.Removed || state.Unreachable.Contains(m))
            {
                continue;
            }

            foreach (string role in m.Roles)
            {
                if (role.StartsWith(ClusterOptions.HttpRolePrefix, StringComparison.Ordinal))
                {
                    endpoints.Add(role[ClusterOptions.HttpRolePrefix.Length..]);
                }
            }
        }

        return endpoints;
    }

    /// <summary>Members as this one sees them: address, HTTP endpoint and status.</summary>
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
    }

    public async ValueTask DisposeAsync() => await LeaveAsync(TimeSpan.FromSeconds(15));
}
