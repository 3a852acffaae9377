namespace AiShell.Pipeline.IntegrationTests.Harness;

/// <summary>The real promtool from the apt package <c>prometheus</c> (./test.sh installs it).</summary>
internal static class Promtool
{
    /// <summary>
    /// Lint findings the integration guide's metric names force on us: its network byte counters have no
    /// <c>_total</c> suffix, and its summary is named ..._summary. Listed in the README; anything
    /// else fails the test.
    /// </summary>
    public static readonly string[] AllowedLint =
    [
        "aishell_network_bytes_received counter metrics should have \"_total\" suffix",
        "aishell_network_bytes_sent counter metrics should have \"_total\" suffix",
        "aishell_query_duration_summary metric name should not include type 'summary'",
    ];

    public static async Task<RunResult> CheckMetricsAsync(string exposition) =>
        await ProcessRunner.RunAsync("promtool", ["check", "metrics"], stdin: exposition);

    /// <summary>Asserts promtool parsed the text and reported nothing beyond the allowed lint.</summary>
    public static async Task AssertCleanAsync(string exposition)
    {
        RunResult result = await CheckMetricsAsync(exposition);
        string[] findings = result.All.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        string[] unexpected = findings.Where(f => Array.IndexOf(AllowedLint, f) < 0).ToArray();
        Assert.True(unexpected.Length == 0, "promtool: " + string.Join("\n", unexpected));
        // promtool exits 3 for lint findings only, 1 for parse errors.
        Assert.True(result.ExitCode == 0 || (result.ExitCode == 3 && findings.Length > 0), $"promtool exit code {result.ExitCode}: {result.All}");
    }
}
