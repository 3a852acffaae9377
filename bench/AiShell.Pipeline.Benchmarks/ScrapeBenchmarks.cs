using AiShell.Pipeline.Metrics;
using AiShell.Pipeline.Metrics.Exposition;
using BenchmarkDotNet.Attributes;
using Prom = Prometheus;

namespace AiShell.Pipeline.Benchmarks;

/// <summary>
/// One scrape, ours into a reused buffer and prometheus-net into a reused stream, in both formats.
/// A derived class fills the two registries with the same series and values.
/// </summary>
[MemoryDiagnoser]
public abstract class ScrapeBenchmarks
{
    private ScrapeBuffer _buffer = null!;
    private MemoryStream _stream = null!;

    protected MetricRegistry Ours { get; set; } = null!;

    protected Prom.CollectorRegistry Theirs { get; set; } = null!;

    /// <summary>Builds <see cref="Ours"/> and <see cref="Theirs"/>, then warms both serializers up.</summary>
    protected void Prepare()
    {
        _buffer = new ScrapeBuffer();
        _stream = new MemoryStream();
        OursText();
        TheirsText();
    }

    [Benchmark(Baseline = true)]
    public int TheirsText()
    {
        _stream.Position = 0;
        Theirs.CollectAndExportAsTextAsync(_stream, Prom.ExpositionFormat.PrometheusText).GetAwaiter().GetResult();
        return (int)_stream.Position;
    }

    [Benchmark]
    public int OursText()
    {
        _buffer.Reset();
        ExpositionWriter.Write(_buffer, Ours, ExpositionFormat.Text);
        return _buffer.Length;
    }

    [Benchmark]
    public int TheirsOpenMetrics()
    {
        _stream.Position = 0;
        Theirs.CollectAndExportAsTextAsync(_stream, Prom.ExpositionFormat.OpenMetricsText).GetAwaiter().GetResult();
        return (int)_stream.Position;
    }

    [Benchmark]
    public int OursOpenMetrics()
    {
        _buffer.Reset();
        ExpositionWriter.Write(_buffer, Ours, ExpositionFormat.OpenMetrics);
        return _buffer.Length;
    }
}
