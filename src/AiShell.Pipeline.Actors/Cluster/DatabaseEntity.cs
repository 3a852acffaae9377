using Akka.Actor;
using Akka.Cluster.Sharding;

namespace AiShell.Pipeline.Actors.Cluster;

/// <summary>What a member does when it comes to own a database, and when it stops owning it.</summary>
public interface IDatabaseOwner
{
    /// <summary>Starts collecting <paramref name="database"/> on this member.</summary>
    void Acquire(string database);

    /// <summary>Stops collecting <paramref name="database"/>; its series leave this member's exposition at once.</summary>
    void Release(string database);
}

/// <summary>
/// One database as a sharded entity: it lives on exactly one member, and while it lives that
/// member collects the database. It stops when its shard moves (hand-off on leave, rebalance), when
/// its member is downed, or when no member has asked for the database for <c>idleAfter</c> (the
/// database left every member's config): each way, the member lets the database go.
/// </summary>
internal sealed class DatabaseEntity(string database, IDatabaseOwner owner, TimeSpan idleAfter) : UntypedActor
{
    protected override void PreStart()
    {
        owner.Acquire(database);
        Context.SetReceiveTimeout(idleAfter);
    }

    protected override void PostStop() => owner.Release(database);

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case CollectDatabase:
                break; // the receive timeout starts again
            case ReceiveTimeout:
                Context.Parent.Tell(new Passivate(PoisonPill.Instance));
                break;
            default:
                Unhandled(message);
                break;
        }
    }
}

/// <summary>Entity id = database name; shard = a stable hash of it (Akka's MurmurHash, the same on every member).</summary>
internal sealed class DatabaseMessageExtractor() : HashCodeMessageExtractor(DatabaseMessageExtractor.Shards)
{
    /// <summary>Ten times a large fleet's member count: shards are what moves, so many small ones spread evenly.</summary>
    private const int Shards = 100;

    public override string? EntityId(object message) => (message as CollectDatabase)?.Database;
}
