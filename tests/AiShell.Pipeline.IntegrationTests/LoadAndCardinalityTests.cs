using System.Diagnostics;
using System.Globalization;
using System.Text;
using AiShell.Pipeline.IntegrationTests.Harness;
using Xunit.Abstractions;

namespace AiShell.Pipeline.IntegrationTests;

/// <summary>Hostile volume: a cardinality bomb, and many concurrent scrapes during full-speed ingest.</summary>
public sealed class LoadAndCardinalityTests(ITestOutputHelper output)
{
    private static long PeakRssKiB(int pid) =>
        long.Parse(File.ReadAllLines($"/proc/{pid}/status").Single(l => l.StartsWith("VmHWM:", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);

    [Fact]
    public async Task CardinalityBomb_OneMillionDistinctValues_AreCappedAndCounted_WithBoundedMemory()
    {
        await using ExporterProcess exporter = await ExporterProcess.StartAsync("prometheus:\n  collect_interval: 5\n  labels:\n    limit: 1000\n");
        using var http = new HttpClient();
        var events = new Uri(exporter.BaseUrl, "/api/v1/events");
        const int Batches = 100, PerBatch = 10_000;
        for (int b = 0; b < Batches; b++)
        {
            var body = new StringBuilder(PerBatch * 48);
            for (int i = 0; i < PerBatch; i++)
            {
                body.Append("{\"kind\":\"feature\",\"feature\":\"user-").Append(b * PerBatch + i).Append("\"}\n");
            }

            HttpResponseMessage response = await http.PostAsync(events, new StringContent(body.ToString()));
            Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
        }

        await Task.Delay(500);
        string text = await http.GetStringAsync(exporter.MetricsUrl);
        int series = text.Split('\n').Count(l => l.StartsWith("aishell_feature_usage_total{", StringComparison.Ordinal));
        Assert.Equal(1001, series); // the limit, plus the one overflow series
        Assert.Equal(999_000, Exposition.Value(text, "aishell_feature_usage_total{feature=\"__overflow__\"}"));
        Assert.Equal(999_000, Exposition.Value(text, "aishell_pipeline_series_overflow_total{family=\"aishell_feature_usage_total\"}"));
        long peak = PeakRssKiB(exporter.Pid);
        output.WriteLine($"peak RSS under a 1,000,000-value cardinality bomb: {peak / 1024} MiB");
        Assert.True(peak < 400 * 1024, $"peak RSS {peak / 1024} MiB");
    }

    [Fact]
    public async Task SixtyFourConcurrentScrapes_DuringFullSpeedIngest_AreEachSelfConsistent_AndCountersNeverDecrease()
    {
        await using ExporterProcess exporter = await ExporterProcess.StartAsync("prometheus:\n  collect_interval: 1\n");
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 128 }) { Timeout = TimeSpan.FromSeconds(10) };
        var events = new Uri(exporter.BaseUrl, "/api/v1/events");
        var body = new StringBuilder();
        for (int i = 0; i < 1000; i++)
        {
            body.Append(CultureInfo.InvariantCulture, $"{{\"kind\":\"query\",\"database\":\"db{i % 8}\",\"type\":\"SELECT\",\"duration_seconds\":{(i % 100) * 0.003}}}\n");
        }

        string payload = body.ToString();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(6));
        Task[] ingest = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await http.PostAsync(events, new StringContent(payload));
            }
        })).ToArray();

        var latencies = new List<double>();
        int scrapes = 0;
        Task[] scrapers = Enumerable.Range(0, 64).Select(_ => Task.Run(async () =>
        {
            var last = new Dictionary<string, double>(StringComparer.Ordinal);
            while (!stop.IsCancellationRequested)
            {
                var sw = Stopwatch.StartNew();
                string text = await http.GetStringAsync(exporter.MetricsUrl);
                double ms = sw.Elapsed.TotalMilliseconds;
                var samples = Exposition.Samples(text);
                var byName = samples.ToDictionary(s => s.Series, s => s.Value, StringComparer.Ordinal);
                foreach ((string series, double value) in samples)
                {
                    if (series.StartsWith("aishell_query_duration_seconds_count{", StringComparison.Ordinal))
                    {
                        string inf = series.Replace("_count{", "_bucket{", StringComparison.Ordinal).TrimEnd('}') + ",le=\"+Inf\"}";
                        Assert.Equal(value, byName[inf]);
                    }

                    if (series.StartsWith("aishell_query_total{", StringComparison.Ordinal) || series.StartsWith("aishell_query_duration_seconds_count{", StringComparison.Ordinal))
                    {
                        Assert.True(!last.TryGetValue(series, out double before) || value >= before, $"{series} went from {before} to {value}");
                        last[series] = value;
                    }
                }

                lock (latencies)
                {
                    latencies.Add(ms);
                    scrapes++;
                }
            }
        })).ToArray();

        await Task.WhenAll(scrapers);
        await Task.WhenAll(ingest);
        latencies.Sort();
        double p50 = latencies[latencies.Count / 2], p99 = latencies[(int)(latencies.Count * 0.99)];
        output.WriteLine($"{scrapes} scrapes by 64 concurrent clients during ingest: p50 {p50:0.0} ms, p99 {p99:0.0} ms, max {latencies[^1]:0.0} ms");
        Assert.True(scrapes > 64);
        Assert.True(p99 < 2000, $"p99 scrape latency {p99:0} ms under load: a stall");
    }

    [Fact]
    public async Task LargeRegistry_WrittenOnEveryCore_IsWholeInEveryScrape_TextOpenMetricsAndGzip_DuringIngest()
    {
        // 15,000 feature series: over the 10,000 from which /metrics serializes on every core.
        Assert.True(Environment.ProcessorCount > 1, "this test needs two cores to exercise the parallel writer");
        await using ExporterProcess exporter = await ExporterProcess.StartAsync("prometheus:\n  collect_interval: 5\n  labels:\n    limit: 20000\n");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
        var events = new Uri(exporter.BaseUrl, "/api/v1/events");
        const int Features = 15_000, Hot = 500;
        var body = new StringBuilder(Features * 48);
        for (int i = 0; i < Features; i++)
        {
            body.Append("{\"kind\":\"feature\",\"feature\":\"f-").Append(i).Append("\"}\n");
        }

        for (int round = 0; round < 2; round++)
        {
            Assert.Equal(System.Net.HttpStatusCode.Accepted, (await http.PostAsync(events, new StringContent(body.ToString()))).StatusCode);
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        string first;
        do
        {
            await Task.Delay(100);
            first = await http.GetStringAsync(exporter.MetricsUrl);
        }
        while (FeatureTotal(first) < 2 * Features && DateTime.UtcNow < deadline);

        Assert.Equal(2 * Features, FeatureTotal(first));
        await Promtool.AssertCleanAsync(first);

        // Then: scrapes in three forms at once, while the first 500 features keep counting.
        var hot = new StringBuilder();
        for (int i = 0; i < Hot; i++)
        {
            hot.Append("{\"kind\":\"feature\",\"feature\":\"f-").Append(i).Append("\"}\n");
        }

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        Task ingest = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await http.PostAsync(events, new StringContent(hot.ToString()));
            }
        });
        (string Accept, bool Gzip)[] forms = [("text/plain", false), ("application/openmetrics-text; version=1.0.0", false), ("text/plain", true)];
        int scrapes = 0;
        Task[] scrapers = Enumerable.Range(0, 6).Select(n => Task.Run(async () =>
        {
            (string accept, bool gzip) = forms[n % forms.Length];
            var last = new Dictionary<string, double>(StringComparer.Ordinal);
            while (!stop.IsCancellationRequested)
            {
                (HttpResponseMessage response, string text) = await MetricsHttp.GetAsync(http, exporter.MetricsUrl, accept, gzip);
                using (response)
                {
                    if (gzip)
                    {
                        Assert.Contains("gzip", response.Content.Headers.ContentEncoding);
                    }
                }

                bool openMetrics = accept.StartsWith("application/openmetrics", StringComparison.Ordinal);
                if (openMetrics)
                {
                    Assert.EndsWith("\n# EOF\n", text, StringComparison.Ordinal);
                }

                // One header, before the family's first series (OpenMetrics names a counter without _total).
                string header = openMetrics ? "# TYPE aishell_feature_usage counter\n" : "# TYPE aishell_feature_usage_total counter\n";
                int at = text.IndexOf(header, StringComparison.Ordinal);
                Assert.True(at >= 0 && at == text.LastIndexOf(header, StringComparison.Ordinal), "the family's header is not there exactly once");
                Assert.True(at < text.IndexOf("aishell_feature_usage_total{", StringComparison.Ordinal));

                Dictionary<string, double> features = Exposition.Samples(text)
                    .Where(s => s.Series.StartsWith("aishell_feature_usage_total{", StringComparison.Ordinal))
                    .ToDictionary(s => s.Series, s => s.Value, StringComparer.Ordinal); // a series twice would throw
                Assert.Equal(Features, features.Count);
                foreach ((string series, double value) in features)
                {
                    int feature = int.Parse(series.AsSpan(series.IndexOf("f-", StringComparison.Ordinal) + 2).TrimEnd("\"}"), CultureInfo.InvariantCulture);
                    if (feature >= Hot)
                    {
                        Assert.Equal(2, value); // untouched since the first scrape
                    }
                    else
                    {
                        Assert.True(value >= 2 && (!last.TryGetValue(series, out double before) || value >= before), $"{series}: {value}");
                        last[series] = value;
                    }
                }

                Interlocked.Increment(ref scrapes);
            }
        })).ToArray();

        await Task.WhenAll(scrapers);
        await ingest;
        output.WriteLine($"{scrapes} whole scrapes of {Features:N0} feature series in 5 s, six scrapers in three forms");
        Assert.True(scrapes >= 6, $"{scrapes} scrapes");
    }

    private static double FeatureTotal(string text) =>
        Exposition.Samples(text).Where(s => s.Series.StartsWith("aishell_feature_usage_total{", StringComparison.Ordinal)).Sum(s => s.Value);
}
