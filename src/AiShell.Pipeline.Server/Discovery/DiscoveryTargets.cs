using System.Text;
using System.Text.Json;

namespace AiShell.Pipeline.Server.Discovery;

/// <summary>
/// This instance and its configured peers as a Prometheus service-discovery target group: the body of
/// <c>GET /api/v1/targets</c> (http_sd) and of the <c>--file-sd</c> file, which share one format.
/// </summary>
public sealed class DiscoveryTargets
{
    public DiscoveryTargets(string self, IReadOnlyList<string> peers, string metricsPath)
    {
        Self = self;
        Peers = peers;
        MetricsPath = metricsPath;
    }

    /// <summary>HOST:PORT this instance is reached at.</summary>
    public string Self { get; }

    public IReadOnlyList<string> Peers { get; }

    /// <summary>A cluster member's live members (HOST:PORT, read at each request), listed beside the peers.</summary>
    public Func<IReadOnlyList<string>>? Members { get; init; }

    public string MetricsPath { get; }

    /// <summary><c>[{"targets": ["self", "peer"...], "labels": {"__metrics_path__": "/metrics", "job": "aishell"}}]</c>.</summary>
    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartArray();
            json.WriteStartObject();
            json.WriteStartArray("targets");
            json.WriteStringValue(Self);
            var listed = new HashSet<string>(StringComparer.Ordinal) { Self };
            foreach (string peer in Members is null ? Peers : [.. Peers, .. Members()])
            {
                if (listed.Add(peer))
                {
                    json.WriteStringValue(peer);
                }
            }

            json.WriteEndArray();
            json.WriteStartObject("labels");
            json.WriteString("__metrics_path__", MetricsPath);
            json.WriteString("job", "aishell");
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndArray();
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    /// <summary>The address to advertise: the configured one, else this host's name (or the bind address) and the bound port.</summary>
    public static string Advertise(string? configured, string bindHost, int port) =>
        configured is { Length: > 0 } ? configured
            : bindHost is "0.0.0.0" or "::" or "*" or "+" ? $"{System.Net.Dns.GetHostName()}:{port}"
            : $"{bindHost}:{port}";
}
