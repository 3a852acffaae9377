using Akka.Actor;
using Akka.Configuration;
using Akka.Serialization;

namespace AiShell.Pipeline.Actors;

/// <summary>
/// Bound in place of Akka's default serializers (see <see cref="AkkaSettings"/>). The pipeline is
/// one process with no remoting and never serializes a message. Akka's JSON serializer, created at
/// start, would pull Newtonsoft.Json into the native binary, and its byte-array serializer looks up
/// its identifier in config that names the JSON one. A serialization request is a bug, so it fails loudly.
/// </summary>
internal abstract class LocalOnlySerializer(ExtendedActorSystem system) : Serializer(system)
{
    public override bool IncludeManifest => false;

    public override byte[] ToBinary(object obj) =>
        throw new NotSupportedException($"aishell's actor system is local only; nothing serializes {obj?.GetType().Name}.");

    public override object FromBinary(byte[] bytes, Type type) =>
        throw new NotSupportedException("aishell's actor system is local only; nothing deserializes.");
}

/// <summary>Bound to the name <c>json</c> (Akka's System.Object default).</summary>
internal sealed class LocalOnlyObjectSerializer : LocalOnlySerializer
{
    public LocalOnlyObjectSerializer(ExtendedActorSystem system)
        : base(system)
    {
    }

    public LocalOnlyObjectSerializer(ExtendedActorSystem system, Config config)
        : base(system) => _ = config;

    public override int Identifier => 740_021;
}

/// <summary>Bound to the name <c>bytes</c> (Akka's byte[] default).</summary>
internal sealed class LocalOnlyBytesSerializer : LocalOnlySerializer
{
    public LocalOnlyBytesSerializer(ExtendedActorSystem system)
        : base(system)
    {
    }

    public LocalOnlyBytesSerializer(ExtendedActorSystem system, Config config)
        : base(system) => _ = config;

    public override int Identifier => 740_022;
}
