namespace AiShell.Pipeline.IntegrationTests;

/// <summary>Tests that stop, restart or freeze the shared PostgreSQL run alone, never beside others.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ServerControlCollection
{
    public const string Name = "PostgreSQL server control";
}
