namespace AiShell.Pipeline.Tests.Shared;

/// <summary>Thread-heavy tests run alone: on two cores, beside other classes, they measure the machine, not the code.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AloneCollection
{
    public const string Name = "thread-heavy, run alone";
}
