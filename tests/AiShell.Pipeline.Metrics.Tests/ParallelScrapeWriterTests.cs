using AiShell.Pipeline.Tests.Shared;
using System.Text;
using AiShell.Pipeline.Metrics.Exposition;

namespace AiShell.Pipeline.Metrics.Tests;

public sealed class ParallelScrapeWriterTests
{
    /// <summary>
    /// The product shape plus what a cut must get right: a summary, a family registered but never
    /// written, one whose first series are unwritten (its header goes before the first written
    /// one), a label-less gauge, and exemplars (OpenMetrics).
    /// </summary>
    private static MetricRegistry Mixed(int labelSets)
    {
        MetricRegistry registry = TestRegistries.ProductShape(labelSets);
        MetricFamily summary = registry.Register(MetricDescriptor.Summary("latency_seconds", "Latency.", [0.5, 0.99], TimeSpan.FromMinutes(1), "route"));
        for (int i = 0; i < 500; i++)
        {
            summary.WithLabels("/r" + i).Observe(i * 0.001);
        }

        registry.Register(MetricDescriptor.Counter("never_total", "Never written.", "x")).WithLabels("a");
        MetricFamily late = registry.Register(MetricDescriptor.Gauge("late_value", "Written from the 300th series on.", "k"));
        for (int i = 0; i < 2_000; i++)
        {
            Series s = late.WithLabels("k" + i);
            if (i >= 300)
            {
                s.Set(i);
            }
        }

        registry.Register(MetricDescriptor.Gauge("plain_value", "No labels.")).WithLabels().Set(7);
        Series traced = registry.Find("aishell_query_duration_seconds")!.WithLabels("db0", "SELECT", "success");
        traced.SetExemplar(0.3, Exemplar.Create("trace_id", "t-1", 0.3, DateTimeOffset.UnixEpoch));
        return registry;
    }

    private static async Task<string> ScrapeAsync(ParallelScrapeWriter writer, MetricRegistry registry, ExpositionFormat format,
        Stream destination, int flushAt = 32 * 1024)
    {
        var buffer = new ScrapeBuffer(256);
        long sent = await writer.WriteAsync(buffer, registry, format, destination, flushAt, CancellationToken.None);
        Assert.Equal(destination.Length, sent);
        destination.Write(buffer.WrittenSpan); // the tail the caller sends
        return Encoding.UTF8.GetString(((MemoryStream)destination).ToArray());
    }

    [Theory]
    [InlineData(ExpositionFormat.Text, 1, ParallelScrapeWriter.DefaultPieceBytes)]
    [InlineData(ExpositionFormat.Text, 3, 32 * 1024)]
    [InlineData(ExpositionFormat.OpenMetrics, 1, 32 * 1024)]
    [InlineData(ExpositionFormat.Text, 2, 500)] // pieces of a series or two: thousands of them
    public async Task Parallel_IsByteForByteTheExposition(ExpositionFormat format, int helpers, int pieceBytes)
    {
        MetricRegistry registry = Mixed(labelSets: 6_000);
        string whole = TestRegistries.Render(registry, format);
        using var writer = new ParallelScrapeWriter(helpers, minSeries: 0, pieceBytes);
        // The pieces, ring and helpers are reused. A helper may start too late to take a piece of a
        // fast scrape (the cores are busy with the other tests): scrape until the helpers have written
        // some of them, bounded.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        int scrapes = 0;
        while (scrapes < 3 || (writer.HelperPieces == 0 && scrapes < 200 && DateTime.UtcNow < deadline))
        {
            using var destination = new MemoryStream();
            Assert.Equal(whole, await ScrapeAsync(writer, registry, format, destination));
            scrapes++;
        }

        Assert.True(writer.HelperPieces > 0, $"the helpers wrote no piece in {scrapes} scrapes");
    }

    [Fact]
    public async Task SlowClient_TheHelperWaitsForTheRing_InsteadOfBufferingAhead()
    {
        MetricRegistry registry = TestRegistries.ProductShape(labelSets: 300);
        string whole = TestRegistries.Render(registry, ExpositionFormat.Text);
        using var writer = new ParallelScrapeWriter(helpers: 1, minSeries: 0, pieceBytes: 4096);
        using var destination = new SlowStream(TimeSpan.FromMilliseconds(2), writer);
        var buffer = new ScrapeBuffer(256);
        await writer.WriteAsync(buffer, registry, ExpositionFormat.Text, destination, 4096, CancellationToken.None);
        destination.Write(buffer.WrittenSpan);

        Assert.Equal(whole, Encoding.UTF8.GetString(destination.ToArray()));
        Assert.True(destination.HelperPiecesAtWrite.Count > 50, $"{destination.HelperPiecesAtWrite.Count} writes");
        // While the client takes 2 ms a piece, the helper could write every piece; its buffers hold
        // it to the pieces sent plus as many as it has buffers.
        for (int sent = 0; sent < destination.HelperPiecesAtWrite.Count; sent++)
        {
            long written = destination.HelperPiecesAtWrite[sent];
            Assert.True(written <= sent + ParallelScrapeWriter.WriterBuffers, $"at send {sent} the helper had written {written} pieces");
        }

        Assert.True(writer.HelperPieces > destination.HelperPiecesAtWrite.Count / 2, "the helper did not write ahead while the client was slow");
    }

    [Fact]
    public async Task FailingClient_TheErrorSurfaces_AndTheNextScrapeIsWhole()
    {
        MetricRegistry registry = TestRegistries.ProductShape(labelSets: 3_000);
        string whole = TestRegistries.Render(registry, ExpositionFormat.Text);
        using var writer = new ParallelScrapeWriter(helpers: 1, minSeries: 0, pieceBytes: 4096);
        using var failing = new FailingStream(failOnWrite: 5);
        await Assert.ThrowsAsync<IOException>(async () =>
            await writer.WriteAsync(new ScrapeBuffer(256), registry, ExpositionFormat.Text, failing, 4096, CancellationToken.None));

        using var destination = new MemoryStream();
        Assert.Equal(whole, await ScrapeAsync(writer, registry, ExpositionFormat.Text, destination));
    }

    [Fact]
    public async Task ConcurrentScrapes_EachIsWhole()
    {
        MetricRegistry registry = Mixed(labelSets: 4_000);
        string whole = TestRegistries.Render(registry, ExpositionFormat.Text);
        using var writer = new ParallelScrapeWriter(helpers: 1, minSeries: 0, pieceBytes: 2048);
        var streams = new MemoryStream[4];
        var scrapes = new Task<string>[streams.Length];
        for (int i = 0; i < streams.Length; i++)
        {
            streams[i] = new MemoryStream();
            MemoryStream destination = streams[i];
            scrapes[i] = Task.Run(() => ScrapeAsync(writer, registry, ExpositionFormat.Text, destination, flushAt: 2048));
        }

        foreach (string text in await Task.WhenAll(scrapes))
        {
            Assert.Equal(whole, text); // one had the helpers, the others streamed alone
        }

        foreach (MemoryStream stream in streams)
        {
            stream.Dispose();
        }
    }

    [Fact]
    public async Task SmallRegistry_StaysOnTheCaller_AndFitsInTheBuffer()
    {
        MetricRegistry registry = TestRegistries.ProductShape(labelSets: 20); // 40 series, under the minimum
        using var writer = new ParallelScrapeWriter(helpers: 1, minSeries: 1_000);
        var buffer = new ScrapeBuffer();
        using var destination = new MemoryStream();
        long sent = await writer.WriteAsync(buffer, registry, ExpositionFormat.Text, destination, 64 * 1024, CancellationToken.None);

        Assert.Equal(0, sent); // all of it left for the caller: a response with a Content-Length
        Assert.Equal(TestRegistries.Render(registry, ExpositionFormat.Text), Encoding.UTF8.GetString(buffer.WrittenSpan));
        Assert.Equal(0, writer.HelperPieces);
    }

    [Fact]
    public async Task Dispose_EndsTheHelperThreads_AndLaterScrapesRunOnTheCaller()
    {
        MetricRegistry registry = TestRegistries.ProductShape(labelSets: 2_000);
        string whole = TestRegistries.Render(registry, ExpositionFormat.Text);
        var writer = new ParallelScrapeWriter(helpers: 2, minSeries: 0, pieceBytes: 4096);
        using (var first = new MemoryStream())
        {
            Assert.Equal(whole, await ScrapeAsync(writer, registry, ExpositionFormat.Text, first));
        }

        Assert.True(writer.HelpersAlive, "the first large scrape starts the helpers");
        writer.Dispose();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (writer.HelpersAlive && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        Assert.False(writer.HelpersAlive, "the helper threads did not end");
        long helped = writer.HelperPieces;
        using var after = new MemoryStream();
        Assert.Equal(whole, await ScrapeAsync(writer, registry, ExpositionFormat.Text, after));
        Assert.Equal(helped, writer.HelperPieces);
    }

    [Fact]
    public void SteadyStateScrape_AllocatesNothingOnTheCaller()
    {
        MetricRegistry registry = TestRegistries.ProductShape(labelSets: 5_000);
        using var writer = new ParallelScrapeWriter(helpers: 1, minSeries: 0);
        var buffer = new ScrapeBuffer();
        long allocated = Allocations.Least(() =>
        {
            buffer.Reset();
            writer.WriteAsync(buffer, registry, ExpositionFormat.Text, Stream.Null, 32 * 1024, CancellationToken.None).GetAwaiter().GetResult();
        });
        Assert.Equal(0, allocated);
    }

    /// <summary>Takes <c>delay</c> per write, and notes how many pieces the writer's helpers had written at each.</summary>
    private sealed class SlowStream(TimeSpan delay, ParallelScrapeWriter writer) : MemoryStream
    {
        public List<long> HelperPiecesAtWrite { get; } = [];

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            HelperPiecesAtWrite.Add(writer.HelperPieces);
            await Task.Delay(delay, cancellationToken);
            await base.WriteAsync(buffer, cancellationToken);
        }
    }

    private sealed class FailingStream(int failOnWrite) : MemoryStream
    {
        private int _writes;

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            ++_writes == failOnWrite ? throw new IOException("the client went away") : base.WriteAsync(buffer, cancellationToken);
    }
}
