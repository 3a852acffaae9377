using Akka.Actor;

namespace AiShell.Pipeline.Actors;

/// <summary>
/// Creates an actor from a plain factory delegate. <c>Props.Create(() =&gt; new X(...))</c> takes an
/// expression tree, which compiles System.Linq.Expressions and its interpreter into the native
/// binary; a delegate does the same job (a fresh instance on every start and restart) without it.
/// </summary>
internal sealed class FactoryProducer<TActor> : IIndirectActorProducer
    where TActor : ActorBase
{
    private readonly Func<TActor> _factory;

    private FactoryProducer(Func<TActor> factory) => _factory = factory;

    public Type ActorType => typeof(TActor);

    public static Props Props(Func<TActor> factory) => Akka.Actor.Props.CreateBy(new FactoryProducer<TActor>(factory));

    public ActorBase Produce() => _factory();

    public void Release(ActorBase actor)
    {
        // Nothing to release: the actor owns no resources the factory handed it.
    }
}
