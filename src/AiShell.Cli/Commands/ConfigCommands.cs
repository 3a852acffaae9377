using System.CommandLine;
using AiShell.Cli.Runtime;
using AiShell.Pipeline.Configuration;

namespace AiShell.Cli.Commands;

/// <summary>
/// <c>aishell config set|get|list|check|docs</c> on the exporter's config file. A bad key or value exits 2
/// and leaves the file untouched.
/// </summary>
internal static class ConfigCommands
{
    public static Command Create()
    {
        var command = new Command("config", "Read and change the exporter configuration.");
        command.Subcommands.Add(Set());
        command.Subcommands.Add(Get());
        command.Subcommands.Add(List());
        command.Subcommands.Add(Check());
        command.Subcommands.Add(Docs());
        return command;
    }

    /// <summary>The config reference table, from the key table itself; --update rewrites a document's generated region.</summary>
    private static Command Docs()
    {
        var update = new Option<string?>("--update") { Description = "Rewrite the generated region of this Markdown file (docs/configuration.md) instead of printing." };
        var command = new Command("docs", "Print the reference table of every config key (Markdown).") { update };
        command.SetAction(result => CliOptions.Run(() =>
        {
            if (result.GetValue(update) is { } file)
            {
                File.WriteAllText(file, ConfigReference.Update(File.ReadAllText(file)));
                Console.WriteLine($"✓ {file}: the config reference is up to date");
                return;
            }

            Console.Write(ConfigReference.Table());
        }));
        return command;
    }

    /// <summary>What <c>prometheus start</c> would refuse, without starting: every problem, exit 2.</summary>
    private static Command Check()
    {
        Option<string?> config = CliOptions.Config();
        var command = new Command("check",
            "Check the config file and what it names (certificates, password and token files, connection strings); every problem is listed, exit 2.") { config };
        command.SetAction(result => CliOptions.Run(() =>
        {
            ExporterConfig cfg = ExporterRuntime.LoadConfig(result.GetValue(config));
            Console.WriteLine($"✓ {cfg.Source}: valid; {cfg.Databases.Count} database(s), TLS {(cfg.Web.TlsCertFile is null ? "off" : "on")}, " +
                $"access control {(cfg.Web.RequiresAuth ? "on" : "off")}");
        }));
        return command;
    }

    private static Command Set()
    {
        Option<string?> config = CliOptions.Config();
        var key = new Argument<string>("key") { Description = "e.g. prometheus.port (integrations.prometheus.port is an alias)" };
        var value = new Argument<string>("value") { Description = "The new value." };
        var command = new Command("set", "Set a key in the config file.") { key, value, config };
        command.SetAction(result => CliOptions.Run(() =>
        {
            (string path, _) = ConfigLoader.Resolve(result.GetValue(config));
            string k = result.GetValue(key)!;
            ConfigEditor.Set(path, k, result.GetValue(value)!);
            Console.WriteLine($"✓ {ConfigKeys.Canonical(k)} = {ConfigEditor.Get(path, k)} ({path})");
        }));
        return command;
    }

    private static Command Get()
    {
        Option<string?> config = CliOptions.Config();
        var key = new Argument<string>("key") { Description = "e.g. prometheus.collect_interval" };
        var command = new Command("get", "Print a key's effective value.") { key, config };
        command.SetAction(result => CliOptions.Run(() => Console.WriteLine(ConfigEditor.Get(result.GetValue(config), result.GetValue(key)!))));
        return command;
    }

    private static Command List()
    {
        Option<string?> config = CliOptions.Config();
        var command = new Command("list", "Print every key with its effective value.") { config };
        command.SetAction(result => CliOptions.Run(() => Console.Write(ConfigEditor.List(result.GetValue(config)))));
        return command;
    }
}
