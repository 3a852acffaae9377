using System.CommandLine;
using AiShell.Cli.OperatorKit;
using AiShell.Pipeline.Configuration;

namespace AiShell.Cli.Commands;

/// <summary>
/// <c>aishell prometheus export-rules --output-dir DIR</c> and
/// <c>aishell prometheus export-config [--output FILE] [--target HOST:PORT]...</c>: files for the
/// Prometheus that scrapes this exporter. Both are checked by promtool in the tests.
/// </summary>
internal static class ExportCommands
{
    public static Command Rules()
    {
        Option<string?> config = CliOptions.Config();
        var output = new Option<string>("--output-dir", "-o") { Description = "Directory for alerts.yml and recording_rules.yml.", Required = true };
        var command = new Command("export-rules", "Write the alerting and recording rules for Prometheus.") { output, config };
        command.SetAction(result => CliOptions.Run(() =>
        {
            ExporterConfig cfg = ConfigLoader.Load(result.GetValue(config));
            string dir = Path.GetFullPath(result.GetValue(output)!);
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "alerts.yml"), RuleFiles.Alerts(cfg));
            File.WriteAllText(Path.Combine(dir, "recording_rules.yml"), RuleFiles.Recording(cfg));
            Console.WriteLine($"✓ Wrote {Path.Combine(dir, "alerts.yml")}");
            Console.WriteLine($"✓ Wrote {Path.Combine(dir, "recording_rules.yml")}");
        }));
        return command;
    }

    public static Command ScrapeConfig()
    {
        Option<string?> config = CliOptions.Config();
        var output = new Option<string?>("--output", "-o") { Description = "File to write (default: standard output)." };
        var targets = new Option<string[]>("--target") { Description = "HOST:PORT to scrape (repeatable; default localhost:PORT).", AllowMultipleArgumentsPerToken = true };
        var rules = new Option<string>("--rules-dir") { Description = "Where alerts.yml and recording_rules.yml are, for rule_files.", DefaultValueFactory = _ => "rules" };
        var command = new Command("export-config", "Write a prometheus.yml scrape job for this exporter.") { output, targets, rules, config };
        command.SetAction(result => CliOptions.Run(() =>
        {
            ExporterConfig cfg = ConfigLoader.Load(result.GetValue(config));
            string[] list = result.GetValue(targets) is { Length: > 0 } given ? given : [$"localhost:{cfg.Port}"];
            string text = ScrapeConfigFile.Create(cfg, list, result.GetValue(rules)!);
            if (result.GetValue(output) is { } file)
            {
                File.WriteAllText(file, text);
                Console.WriteLine($"✓ Wrote {Path.GetFullPath(file)}");
            }
            else
            {
                Console.Write(text);
            }
        }));
        return command;
    }

    public static Command Dashboard()
    {
        Option<string?> config = CliOptions.Config();
        var output = new Option<string>("--output", "-o") { Description = "File to write, e.g. aishell-dashboard.json.", Required = true };
        var format = new Option<string>("--format")
        {
            Description = "api: {\"dashboard\":...,\"overwrite\":true} for POST /api/dashboards/db (the default); model: the bare dashboard for Grafana's import screen and provisioning.",
            DefaultValueFactory = _ => "api",
        };
        format.AcceptOnlyFromAmong("api", "model");
        var command = new Command("export-dashboard", "Write the Grafana dashboard JSON.") { output, format, config };
        command.SetAction(result => CliOptions.Run(() =>
        {
            ExporterConfig cfg = ConfigLoader.Load(result.GetValue(config));
            string file = result.GetValue(output)!;
            File.WriteAllText(file, DashboardFile.Create(cfg, apiEnvelope: result.GetValue(format) == "api"));
            Console.WriteLine($"✓ Wrote {Path.GetFullPath(file)}");
        }));
        return command;
    }
}
