using System.CommandLine;
using AiShell.Cli;
using AiShell.Cli.Commands;

var root = new RootCommand("AI-Shell Prometheus exporter: PostgreSQL, host and query-event metrics for Prometheus.");
root.Subcommands.Add(PrometheusCommands.Create());
root.Subcommands.Add(ConfigCommands.Create());
root.Subcommands.Add(LoadtestCommand.Create());

// Signals are handled by `prometheus start` itself, which stops the pipeline in order.
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
