namespace AiShell.Pipeline.Server;

public sealed class ServerOptions
{
    public string Host { get; init; } = "0.0.0.0";

    /// <summary>0 asks the OS for a free port; <see cref="ExporterServer.Port"/> tells which one.</summary>
    public int Port { get; init; } = 9090;

    public string MetricsPath { get; init; } = "/metrics";

    public string Version { get; init; } = "0.0.0";

    public TimeProvider Time { get; init; } = TimeProvider.System;
}
