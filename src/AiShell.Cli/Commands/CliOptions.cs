using System.CommandLine;

namespace AiShell.Cli.Commands;

/// <summary>Options shared by several commands.</summary>
internal static class CliOptions
{
    public static Option<string?> Config() => new("--config", "-c")
    {
        Description = "Config file (default: $AISHELL_CONFIG, else ~/.aishell/config/prometheus.yaml).",
    };

    public static Option<int?> Port(string description) => new("--port", "-p") { Description = description };

    public static Option<string?> Host(string description) => new("--host") { Description = description };

    /// <summary>The address a client should use for a bind address (wildcards become localhost).</summary>
    public static string DisplayHost(string host) => host is "0.0.0.0" or "::" or "*" or "+" or "[::]" ? "localhost" : host;

    /// <summary>
    /// Runs a synchronous command body: exit 0, or 2 for a config error, 1 for a file-system error,
    /// with the message on stderr.
    /// </summary>
    public static int Run(Action action)
    {
        try
        {
            action();
            return 0;
        }
        catch (Pipeline.Configuration.ConfigException ex)
        {
            Console.Error.WriteLine($"✗ {ex.Message}");
            return 2;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"✗ {ex.Message}");
            return 1;
        }
    }
}
