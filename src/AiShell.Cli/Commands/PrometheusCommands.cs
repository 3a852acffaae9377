using System.CommandLine;

namespace AiShell.Cli.Commands;

/// <summary><c>aishell prometheus ...</c></summary>
internal static class PrometheusCommands
{
    public static Command Create()
    {
        var prometheus = new Command("prometheus", "Run and inspect the Prometheus exporter.");
        prometheus.Subcommands.Add(PrometheusStartCommand.Create());
        prometheus.Subcommands.Add(PrometheusStatusCommand.Create());
        prometheus.Subcommands.Add(ExportCommands.Rules());
        prometheus.Subcommands.Add(ExportCommands.ScrapeConfig());
        prometheus.Subcommands.Add(ExportCommands.Dashboard());
        return prometheus;
    }
}
