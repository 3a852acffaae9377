namespace AiShell.Pipeline.IntegrationTests.Harness;

/// <summary>An empty HOME for one CLI run, removed on dispose.</summary>
internal sealed class TempHome : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("aishell-home-").FullName;

    public Dictionary<string, string> Env => ExporterProcess.Env(Path);

    public Task<RunResult> RunAsync(params string[] args) => ProcessRunner.RunAsync(NativeBinary.Path, args, Env);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
