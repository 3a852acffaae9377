using AiShell.Pipeline.IntegrationTests.Harness;

namespace AiShell.Pipeline.IntegrationTests;

/// <summary>The operator files the binary exports, checked by the real promtool.</summary>
public sealed class ExportTests
{
    [Fact]
    public async Task ExportRules_PassPromtoolCheck_AndAUnitTestPerAlert()
    {
        using var home = new TempHome();
        string dir = Path.Combine(home.Path, "rules");
        RunResult export = await home.RunAsync("prometheus", "export-rules", "--output-dir", dir);
        Assert.True(export.ExitCode == 0, export.All);

        RunResult check = await ProcessRunner.RunAsync("promtool", ["check", "rules", Path.Combine(dir, "alerts.yml"), Path.Combine(dir, "recording_rules.yml")]);
        Assert.True(check.ExitCode == 0, check.All);
        Assert.Contains("SUCCESS: 7 rules found", check.Stdout, StringComparison.Ordinal);
        Assert.Contains("SUCCESS: 5 rules found", check.Stdout, StringComparison.Ordinal);

        File.Copy(Path.Combine(AppContext.BaseDirectory, "Rules", "rules_test.yml"), Path.Combine(dir, "rules_test.yml"));
        var psi = ProcessRunner.StartInfo("promtool", ["test", "rules", "rules_test.yml"]);
        psi.WorkingDirectory = dir;
        using var promtool = System.Diagnostics.Process.Start(psi)!;
        string output = await promtool.StandardOutput.ReadToEndAsync() + await promtool.StandardError.ReadToEndAsync();
        await promtool.WaitForExitAsync();
        Assert.True(promtool.ExitCode == 0, output);
        Assert.Contains("SUCCESS", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExportRules_TakeThresholdsAndPrefixFromConfig()
    {
        using var home = new TempHome();
        string config = Path.Combine(home.Path, "c.yaml");
        await File.WriteAllTextAsync(config, "prometheus:\n  prefix: myshell\n  alerts:\n    high_query_rate: 250\n    high_cpu_percent: 75\n");
        string dir = Path.Combine(home.Path, "rules");
        Assert.Equal(0, (await home.RunAsync("prometheus", "export-rules", "-o", dir, "--config", config)).ExitCode);
        string alerts = await File.ReadAllTextAsync(Path.Combine(dir, "alerts.yml"));
        Assert.Contains("sum by (database) (rate(myshell_query_total[5m])) > 250", alerts, StringComparison.Ordinal);
        Assert.Contains("myshell_cpu_usage_percent > 75", alerts, StringComparison.Ordinal);
        Assert.Contains("record: myshell:query_rate:5m", await File.ReadAllTextAsync(Path.Combine(dir, "recording_rules.yml")), StringComparison.Ordinal);
        Assert.Equal(0, (await ProcessRunner.RunAsync("promtool", ["check", "rules", Path.Combine(dir, "alerts.yml")])).ExitCode);
    }

    [Fact]
    public async Task ExportConfig_IsAValidPrometheusConfig_WithTheSeedsRelabeling()
    {
        using var home = new TempHome();
        string dir = Path.Combine(home.Path, "rules");
        Assert.Equal(0, (await home.RunAsync("prometheus", "export-rules", "-o", dir)).ExitCode);
        string file = Path.Combine(home.Path, "prometheus.yml");
        RunResult export = await home.RunAsync("prometheus", "export-config", "--output", file, "--rules-dir", dir,
            "--target", "localhost:9090", "--target", "db-server-1:9090");
        Assert.True(export.ExitCode == 0, export.All);
        string text = await File.ReadAllTextAsync(file);
        Assert.Contains("job_name: 'aishell'", text, StringComparison.Ordinal);
        Assert.Contains("- 'db-server-1:9090'", text, StringComparison.Ordinal);
        Assert.Contains("target_label: host", text, StringComparison.Ordinal);
        RunResult check = await ProcessRunner.RunAsync("promtool", ["check", "config", file]);
        Assert.True(check.ExitCode == 0, check.All);
        Assert.Contains("SUCCESS: 2 rule files found", check.Stdout, StringComparison.Ordinal);
    }
}
