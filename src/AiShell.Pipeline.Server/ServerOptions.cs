namespace AiShell.Pipeline.Server;

public sealed class ServerOptions
{
    public string Host { get; init; } = "0.0.0.0";

    /// <summary>0 asks the OS for a free port; <see cref="ExporterServer.Port"/> tells which one.</summary>
    public int Port { get; init; } = 9090;

    public string MetricsPath { get; init; } = "/metrics";

    public string Version { get; init; } = "0.0.0";

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>HTTP event ingest (<c>POST /api/v1/events</c>); null turns it off (404).</summary>
    public Ingest.EventIngestor? Events { get; init; }

    /// <summary>Who may call the endpoints; null: everyone.</summary>
    public Security.AccessControl? Access { get; init; }

    /// <summary>Serve HTTPS with these (reloaded on change); null: plain HTTP.</summary>
    public Security.TlsCertificates? Tls { get; init; }

    /// <summary>Largest event body accepted; larger ones get 413.</summary>
    public long MaxEventBodyBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>Event body bytes being read and parsed across all requests; a request over it gets 429.</summary>
    public long MaxInflightBytes { get; init; } = 32 * 1024 * 1024;

    /// <summary>Open HTTP connections; Kestrel closes one more at once.</summary>
    public int MaxConnections { get; init; } = 1024;
}
