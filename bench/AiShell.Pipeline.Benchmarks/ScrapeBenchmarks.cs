using AiShell.Pipeline.Metrics;
using AiShell.Pipeline.Metrics.Exposition;
using BenchmarkDotNet.Attributes;
using Prom = Prometheus;

namespace AiShell.Pipeline.Benchmarks;

/// <summary>
/// One scrape, ours into a reused buffer and prometheus-net into a reused stream, in both formats;
/// and the way a server sends it, streamed to a sink (Stream.Null): ours in 32 KiB pieces as
/// ExporterServer does, prometheus-net through its own buffering. A derived class fills the two
/// registries with the same series and values.
/// </summary>
[MemoryDiagnoser]
public abstract class ScrapeBenchmarks
{
    private ScrapeBuffer _buffer = null!;
    private MemoryStream _stream = null!;
    private readonly ParallelScrapeWriter _parallel = new(minSeries: 0); // every size, so the 1k row shows the cost

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

    /// <summary>The piece size of ExporterServer.ScrapeChunkBytes.</summary>
    private const int ChunkBytes = 32 * 1024;

    [Benchmark]
    public int TheirsTextStreamed() => TheirsStreamed(Prom.ExpositionFormat.PrometheusText);

    [Benchmark]
    public long OursTextStreamed() => OursStreamed(ExpositionFormat.Text);

    /// <summary>What /metrics does for a registry of 10,000 series or more: streamed, written on every core.</summary>
    [Benchmark]
    public long OursTextStreamedParallel() => OursStreamed(ExpositionFormat.Text, _parallel);

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

    [Benchmark]
    public int TheirsOpenMetricsStreamed() => TheirsStreamed(Prom.ExpositionFormat.OpenMetricsText);

    [Benchmark]
    public long OursOpenMetricsStreamed() => OursStreamed(ExpositionFormat.OpenMetrics);

    private int TheirsStreamed(Prom.ExpositionFormat format)
    {
        Theirs.CollectAndExportAsTextAsync(Stream.Null, format).GetAwaiter().GetResult();
        return 0;
    }

    private long OursStreamed(ExpositionFormat format, ParallelScrapeWriter? parallel = null)
    {
        _buffer.Reset();
        long sent = (parallel is null
            ? ExpositionWriter.WriteAsync(_buffer, Ours, format, Stream.Null, ChunkBytes, default)
            : parallel.WriteAsync(_buffer, Ours, format, Stream.Null, ChunkBytes, default)).GetAwaiter().GetResult();
        return sent + _buffer.Length; // what was sent plus the tail the server sends last
    }
}
