namespace AiShell.Pipeline.IntegrationTests.Harness;

/// <summary>The native executable under test: $AISHELL_BINARY, else dist/aishell of this checkout.</summary>
internal static class NativeBinary
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string Path
    {
        get
        {
            string path = Environment.GetEnvironmentVariable("AISHELL_BINARY") is { Length: > 0 } env
                ? env
                : System.IO.Path.Combine(RepoRoot, "dist", "aishell");
            Assert.True(File.Exists(path), $"native binary {path} not found: run ./build.sh (or ./test.sh, which does)");
            return path;
        }
    }

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "AiShell.Pipeline.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("cannot find the repository root");
    }
}
