using AiShell.Pipeline.Tests.Shared;
using AiShell.Pipeline.Metrics.Exposition;

namespace AiShell.Pipeline.Metrics.Tests;

public sealed class ExpositionWriterTests
{
    private static MetricRegistry Sample()
    {
        var registry = new MetricRegistry(new MetricOptions
        {
            ConstantLabels = [new("environment", "production"), new("region", "us-west-2")],
        });
        MetricFamily queries = registry.Register(TestRegistries.Queries);
        queries.WithLabels("postgres", "SELECT", "success").Add(1234);
        queries.WithLabels("postgres", "UPDATE", "error").Add(3);
        MetricFamily duration = registry.Register(MetricDescriptor.Histogram(
            "query_duration_seconds", "Query execution duration", "query_duration", "database", "type"));
        Series d = duration.WithLabels("postgres", "SELECT");
        foreach (double v in new[] { 0.004, 0.02, 0.07, 0.3, 0.3, 2, 12.5 })
        {
            d.Observe(v);
        }

        registry.Register(MetricCatalog.CpuUsagePercent).WithLabels().Set(12.75);
        registry.Register(MetricCatalog.NetworkBytesReceived).WithLabels("eth0").Set(162562833);
        registry.Register(MetricDescriptor.Gauge("empty_family", "Has no series, so it is not written"));
        return registry;
    }

    [Fact]
    public void Text004_MatchesGoldenFile() =>
        GoldenFile.AssertMatches("sample.prom", TestRegistries.Render(Sample(), ExpositionFormat.Text));

    [Fact]
    public void OpenMetrics_MatchesGoldenFile() =>
        GoldenFile.AssertMatches("sample.om.txt", TestRegistries.Render(Sample(), ExpositionFormat.OpenMetrics));

    [Fact]
    public void OpenMetrics_EndsWithEof_AndNamesCounterFamilyWithoutTotal()
    {
        string text = TestRegistries.Render(Sample(), ExpositionFormat.OpenMetrics);
        Assert.EndsWith("# EOF\n", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE aishell_query counter\n", text, StringComparison.Ordinal);
        Assert.Contains("\naishell_query_total{", text, StringComparison.Ordinal);
        // A counter without _total keeps its stored name by being 'unknown' in OpenMetrics.
        Assert.Contains("# TYPE aishell_network_bytes_received unknown\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Text004_HasNoEofMarker_AndOneHelpAndTypePerFamily()
    {
        string text = TestRegistries.Render(Sample(), ExpositionFormat.Text);
        Assert.DoesNotContain("# EOF", text, StringComparison.Ordinal);
        string[] typeLines = text.Split('\n').Where(l => l.StartsWith("# TYPE ", StringComparison.Ordinal)).ToArray();
        Assert.Equal(typeLines.Length, typeLines.Distinct().Count());
        Assert.Equal(4, typeLines.Length); // the empty family is left out
    }

    [Theory]
    [InlineData(0.0, "0")]
    [InlineData(-3.0, "-3")]
    [InlineData(1234567890123.0, "1234567890123")]
    [InlineData(0.1, "0.1")]
    [InlineData(1e300, "1E+300")]
    [InlineData(double.NaN, "NaN")]
    [InlineData(double.PositiveInfinity, "+Inf")]
    [InlineData(double.NegativeInfinity, "-Inf")]
    public void Values_AreWrittenInPrometheusSyntax(double value, string expected)
    {
        var registry = new MetricRegistry();
        registry.Register(MetricDescriptor.Gauge("g", "g")).WithLabels().Set(value);
        Assert.Contains($"\naishell_g {expected}\n", TestRegistries.Render(registry, ExpositionFormat.Text), StringComparison.Ordinal);
    }

    [Fact]
    public void Doubles_RoundTripExactly()
    {
        var registry = new MetricRegistry();
        double value = 0.1 + 0.2;
        registry.Register(MetricDescriptor.Gauge("g", "g")).WithLabels().Set(value);
        string line = TestRegistries.Render(registry, ExpositionFormat.Text).Split('\n')[2];
        Assert.Equal(value, double.Parse(line.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("application/openmetrics-text; version=1.0.0; charset=utf-8,text/plain;version=0.0.4;q=0.5", ExpositionFormat.OpenMetrics)]
    [InlineData("text/plain;version=0.0.4;q=0.9,application/openmetrics-text;version=1.0.0;q=0.5", ExpositionFormat.OpenMetrics)]
    [InlineData("application/openmetrics-text;q=0", ExpositionFormat.Text)]
    [InlineData("text/plain", ExpositionFormat.Text)]
    [InlineData("", ExpositionFormat.Text)]
    [InlineData("*/*", ExpositionFormat.Text)]
    public void Negotiate_PicksOpenMetricsOnlyWhenAccepted(string accept, ExpositionFormat expected) =>
        Assert.Equal(expected, ExpositionFormats.Negotiate(accept));
}

public sealed class StreamingExpositionTests
{
    /// <summary>Counts the writes it receives and keeps their bytes.</summary>
    private sealed class RecordingStream : MemoryStream
    {
        public int Writes { get; private set; }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Writes++;
            return base.WriteAsync(buffer, cancellationToken);
        }
    }

    [Theory]
    [InlineData(ExpositionFormat.Text, 1)]
    [InlineData(ExpositionFormat.Text, 4096)]
    [InlineData(ExpositionFormat.OpenMetrics, 1000)]
    public async Task Streamed_InPieces_IsByteForByteTheWholeExposition(ExpositionFormat format, int flushAt)
    {
        MetricRegistry registry = TestRegistries.ProductShape(labelSets: 300);
        registry.Register(MetricDescriptor.Summary("latency_seconds", "Latency.", [0.5, 0.99], TimeSpan.FromMinutes(1), "route"))
            .WithLabels("/a").Observe(0.25);
        string whole = TestRegistries.Render(registry, format);

        var buffer = new ScrapeBuffer(initialCapacity: 256);
        using var destination = new RecordingStream();
        long sent = await ExpositionWriter.WriteAsync(buffer, registry, format, destination, flushAt, CancellationToken.None);
        long streamedLength = destination.Length;
        destination.Write(buffer.WrittenSpan); // the tail the caller sends

        Assert.Equal(whole, System.Text.Encoding.UTF8.GetString(destination.ToArray()));
        Assert.Equal(streamedLength, sent);
        Assert.True(destination.Writes > 10, $"only {destination.Writes} pieces were written");
        // A piece is cut after the series that reached flushAt: the buffer never held much more.
        Assert.True(buffer.Capacity <= Math.Max(256, 2 * (flushAt + 2048)), $"the buffer grew to {buffer.Capacity} bytes");
    }

    [Fact]
    public async Task SmallRegistry_IsLeftWholeInTheBuffer_ForAContentLength()
    {
        MetricRegistry registry = TestRegistries.ProductShape(labelSets: 2);
        var buffer = new ScrapeBuffer();
        using var destination = new MemoryStream();
        long sent = await ExpositionWriter.WriteAsync(buffer, registry, ExpositionFormat.Text, destination, 64 * 1024, CancellationToken.None);

        Assert.Equal(0, sent);
        Assert.Equal(0, destination.Length);
        Assert.Equal(TestRegistries.Render(registry, ExpositionFormat.Text), System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan));
    }
}
