using System.CommandLine;

namespace AiShell.Cli;

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
}
