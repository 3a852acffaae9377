using System.Runtime.CompilerServices;

namespace AiShell.Pipeline.Metrics.Tests;

/// <summary>
/// Compares output with a file under Golden/. Set AISHELL_UPDATE_GOLDEN=1 to rewrite the files
/// from the current output (then review the diff before committing).
/// </summary>
internal static class GoldenFile
{
    public static void AssertMatches(string name, string actual, [CallerFilePath] string callerFile = "")
    {
        string path = Path.Combine(Path.GetDirectoryName(callerFile)!, "Golden", name);
        if (Environment.GetEnvironmentVariable("AISHELL_UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(path, actual);
            return;
        }

        Assert.True(File.Exists(path), $"golden file {path} is missing; run with AISHELL_UPDATE_GOLDEN=1 to create it");
        Assert.Equal(File.ReadAllText(path), actual);
    }
}
