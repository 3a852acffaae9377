using System.Net;
using System.Net.Sockets;
using System.Text;
using AiShell.Pipeline.IntegrationTests.Harness;

namespace AiShell.Pipeline.IntegrationTests;

/// <summary>
/// Memory and files stay bounded whatever the clients do: concurrent large event bodies are held to
/// prometheus.ingest.max_inflight_bytes (429 beyond, nothing of them counted) and the memory goes back
/// to the OS after the burst; a flood of idle connections is held to prometheus.max_connections.
/// Real sockets on 127.0.0.1 against the native binary.
/// </summary>
[Collection(ServerControlCollection.Name)] // memory and file counts are measured: no other exporter busy beside it
public sealed class IngestLimitsTests
{
    private static long RssMiB(int pid) =>
        long.Parse(File.ReadAllLines($"/proc/{pid}/status").Single(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) / 1024;

    /// <summary>A valid NDJSON body just under 4 MiB: <paramref name="lines"/> feature events.</summary>
    private static (byte[] Body, int Lines) FourMiBody()
    {
        byte[] line = "{\"kind\":\"feature\",\"feature\":\"burst\"}\n"u8.ToArray();
        int lines = (4 * 1024 * 1024 - 1) / line.Length;
        byte[] body = new byte[lines * line.Length];
        for (int i = 0; i < lines; i++)
        {
            line.CopyTo(body, i * line.Length);
        }

        return (body, lines);
    }

    [Theory]
    [InlineData(128)]
    [InlineData(160)]
    public async Task ConcurrentFourMiBBodies_StayUnderTheBudget_CountExactly_AndTheMemoryGoesBack(int concurrency)
    {
        await using ExporterProcess exporter = await ExporterProcess.StartAsync("prometheus:\n  collect_interval: 5\n");
        (byte[] body, int lines) = FourMiBody();
        long before = RssMiB(exporter.Pid);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        var url = new Uri(exporter.BaseUrl, "/api/v1/events");
        long peak = before;
        using var sampling = new CancellationTokenSource();
        Task sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, RssMiB(exporter.Pid));
                await Task.Delay(50);
            }
        });

        using var go = new ManualResetEventSlim();
        Task<(HttpStatusCode Status, string Body, bool RetryAfter)>[] posts = [.. Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            go.Wait();
            using var content = new ByteArrayContent(body);
            using HttpResponseMessage response = await http.PostAsync(url, content);
            return (response.StatusCode, await response.Content.ReadAsStringAsync(), response.Headers.RetryAfter is not null);
        }))];
        go.Set();
        var results = await Task.WhenAll(posts);
        await sampling.CancelAsync();
        await sampler;

        int accepted = results.Count(r => r.Status == HttpStatusCode.Accepted);
        int busy = results.Count(r => r.Status == HttpStatusCode.TooManyRequests && r.Body.Contains("max_inflight_bytes", StringComparison.Ordinal));
        int full = results.Count(r => r.Status == HttpStatusCode.TooManyRequests && r.Body.Contains("pipeline is full", StringComparison.Ordinal));
        Assert.True(accepted + busy + full == concurrency, string.Join(", ", results.Select(r => $"{(int)r.Status} {r.Body.Trim()}").Distinct()));
        Assert.True(accepted > 0, "some bodies fit");
        Assert.True(busy > 0, "the budget refused some");
        Assert.All(results.Where(r => r.Status == HttpStatusCode.TooManyRequests), r => Assert.True(r.RetryAfter));
        // Each body byte in flight costs about a byte of RSS, and each refused connection ~0.25 MB
        // while its body drains: with the default budget (32 MiB) the peaks measured 95-134 MiB
        // (before the byte budget: 701 MB at 128-way, ~1 GB at 160-way).
        Assert.True(peak < 150, $"RSS peaked at {peak} MiB (from {before} MiB) with {concurrency} concurrent 4 MiB bodies");

        await Task.Delay(500); // folding
        string text = await http.GetStringAsync(exporter.MetricsUrl);
        Assert.Equal((double)accepted * lines, Exposition.Value(text, "aishell_feature_usage_total{feature=\"burst\"}"));
        Assert.Equal(busy, Exposition.Value(text, "aishell_pipeline_events_rejected_total{source=\"http\",reason=\"busy\"}"));
        Assert.Equal((double)full * lines, Exposition.Value(text, "aishell_pipeline_events_dropped_total{source=\"http\"}"));

        long after = RssMiB(exporter.Pid);
        for (int i = 0; i < 60 && after > before + 30; i++)
        {
            await Task.Delay(1000);
            after = RssMiB(exporter.Pid);
        }

        Assert.True(after <= before + 30, $"RSS {after} MiB a minute after the burst (before: {before} MiB, peak {peak} MiB)");
    }

    [Fact]
    public async Task AFloodOfIdleConnections_IsHeldToTheCap_TheProcessKeepsItsFiles_AndServesItsOpenConnection()
    {
        await using ExporterProcess exporter = await ExporterProcess.StartAsync("prometheus:\n  collect_interval: 1\n  max_connections: 64\n");
        using var scraper = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5) });
        Assert.Equal(HttpStatusCode.OK, (await scraper.GetAsync(exporter.MetricsUrl)).StatusCode); // connected before the flood
        int filesBefore = Directory.GetFiles($"/proc/{exporter.Pid}/fd").Length;

        var flood = new List<Socket>();
        try
        {
            for (int i = 0; i < 600; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(IPAddress.Loopback, exporter.BaseUrl.Port);
                flood.Add(socket);
            }

            await Task.Delay(1500); // the exporter accepts and closes what is over the cap; a collection runs meanwhile
            int files = Directory.GetFiles($"/proc/{exporter.Pid}/fd").Length;
            Assert.True(files <= filesBefore + 64 + 8, $"{files} open files with 600 idle connections (before: {filesBefore}, cap 64)");
            Assert.Equal(HttpStatusCode.OK, (await scraper.GetAsync(exporter.MetricsUrl)).StatusCode);
            string text = await scraper.GetStringAsync(exporter.MetricsUrl);
            Assert.True(Exposition.Has(text, "aishell_cpu_usage_percent"));
            Assert.DoesNotContain("Too many open files", exporter.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            foreach (Socket socket in flood)
            {
                socket.Dispose();
            }
        }

        using var fresh = new HttpClient();
        HttpStatusCode status = HttpStatusCode.ServiceUnavailable;
        for (int i = 0; i < 50 && status != HttpStatusCode.OK; i++)
        {
            try
            {
                status = (await fresh.GetAsync(new Uri(exporter.BaseUrl, "/healthz"))).StatusCode;
            }
            catch (HttpRequestException)
            {
                await Task.Delay(100);
            }
        }

        Assert.Equal(HttpStatusCode.OK, status);
    }
}
