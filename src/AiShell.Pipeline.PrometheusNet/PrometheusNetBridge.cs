using System.Text;
using AiShell.Pipeline.Metrics;
using AiShell.Pipeline.Metrics.Exposition;
using Prometheus;
using OurFormat = AiShell.Pipeline.Metrics.Exposition.ExpositionFormat;

namespace AiShell.Pipeline.PrometheusNet;

/// <summary>
/// Serves a prometheus-net <see cref="CollectorRegistry"/> in the pipeline's scrape:
/// <code>ExpositionWriter.AddExternal(registry, new PrometheusNetBridge(Metrics.DefaultRegistry));</code>
/// Each scrape asks prometheus-net for its text in the negotiated format (so this part allocates
/// what prometheus-net allocates), drops its <c># EOF</c>, and leaves out any family whose name the
/// pipeline already serves, so every family has one HELP/TYPE.
/// </summary>
public sealed class PrometheusNetBridge : IExternalExposition
{
    private readonly CollectorRegistry _source;
    private readonly Lock _gate = new();
    private readonly MemoryStream _stream = new();

    public PrometheusNetBridge(CollectorRegistry source) => _source = source ?? throw new ArgumentNullException(nameof(source));

    /// <summary>Families left out because the pipeline serves the same name (last scrape).</summary>
    public IReadOnlyList<string> Collisions { get; private set; } = [];

    public void WriteTo(ScrapeBuffer buffer, OurFormat format, MetricRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        ArgumentNullException.ThrowIfNull(registry);
        lock (_gate)
        {
            _stream.SetLength(0);
            _source.CollectAndExportAsTextAsync(_stream,
                    format == OurFormat.OpenMetrics ? Prometheus.ExpositionFormat.OpenMetricsText : Prometheus.ExpositionFormat.PrometheusText)
                .GetAwaiter().GetResult();
            string text = Encoding.UTF8.GetString(_stream.GetBuffer(), 0, (int)_stream.Length);
            var collisions = new List<string>();
            bool skipping = false;
            foreach (string line in text.Split('\n'))
            {
                if (line.Length == 0 || line == "# EOF")
                {
                    continue;
                }

                if (line.StartsWith("# HELP ", StringComparison.Ordinal) || line.StartsWith("# TYPE ", StringComparison.Ordinal))
                {
                    string name = line[7..].Split(' ', 2)[0];
                    skipping = Serves(registry, name);
                    if (skipping && !collisions.Contains(name))
                    {
                        collisions.Add(name);
                    }
                }

                if (!skipping)
                {
                    buffer.Write(Encoding.UTF8.GetBytes(line + "\n"));
                }
            }

            Collisions = collisions;
        }
    }

    /// <summary>True when the registry has the family (OpenMetrics names a counter without _total).</summary>
    private static bool Serves(MetricRegistry registry, string name) =>
        registry.Find(name) is { Count: > 0 } || registry.Find(name + "_total") is { Count: > 0 };
}
