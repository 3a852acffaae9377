using System.Text;
using Akka.Actor;
using Akka.Serialization;

namespace AiShell.Pipeline.Actors.Cluster;

/// <summary>
/// "Collect this database": what every member sends, once per collect interval, for every database
/// it knows. Sharding delivers it to the database's entity on the one member that owns it.
/// </summary>
public sealed record CollectDatabase(string Database);

/// <summary>
/// The one message of ours that crosses the network: the database name as UTF-8. Akka's own
/// cluster, sharding and distributed-data messages have their own (protobuf) serializers.
/// </summary>
internal sealed class ClusterMessageSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    private const string CollectManifest = "c";

    public override int Identifier => 740_031;

    public override string Manifest(object o) => o is CollectDatabase ? CollectManifest
        : throw new ArgumentException($"aishell's cluster serializer does not carry {o?.GetType().Name}", nameof(o));

    public override byte[] ToBinary(object obj) => obj is CollectDatabase collect ? Encoding.UTF8.GetBytes(collect.Database)
        : throw new ArgumentException($"aishell's cluster serializer does not carry {obj?.GetType().Name}", nameof(obj));

    public override object FromBinary(byte[] bytes, string manifest) => manifest == CollectManifest
        ? new CollectDatabase(Encoding.UTF8.GetString(bytes))
        : throw new System.Runtime.Serialization.SerializationException($"unknown manifest '{manifest}' (a member of another aishell version?)");
}
