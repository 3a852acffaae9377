using System.Net;
using System.Net.Sockets;
using System.Text;
using AiShell.Pipeline.IntegrationTests.Harness;

namespace AiShell.Pipeline.IntegrationTests;

/// <summary>The three ingest paths of the native binary, with exact counts.</summary>
public sealed class IngestTests
{
    private const string Config = """
        prometheus:
          collect_interval: 5
          ingest:
            max_body_bytes: 65536
          custom_metrics:
            - name: business_transactions
              type: counter
              help: "Total business transactions"
              labels: [type, status]
        """;

    private static StringContent Ndjson(string body) => new(body, Encoding.UTF8, "application/x-ndjson");

    private static async Task<string> MetricsAsync(ExporterProcess exporter, HttpClient http)
    {
        // Folding is asynchronous: the aggregators drain within milliseconds.
        await Task.Delay(300);
        return await http.GetStringAsync(exporter.MetricsUrl);
    }

    [Fact]
    public async Task Http_EveryAcceptedEventIsCountedOnce_AndAMalformedBatchCountsNothing()
    {
        await using ExporterProcess exporter = await ExporterProcess.StartAsync(Config);
        using var http = new HttpClient();
        var events = new Uri(exporter.BaseUrl, "/api/v1/events");
        var body = new StringBuilder();
        for (int i = 0; i < 500; i++)
        {
            body.Append("{\"kind\":\"query\",\"database\":\"app1\",\"type\":\"SELECT\",\"status\":\"success\",\"duration_seconds\":0.012}\n");
        }

        body.Append("{\"kind\":\"query\",\"database\":\"app1\",\"type\":\"UPDATE\",\"status\":\"error\",\"duration_seconds\":0.3,\"error\":\"40P01\"}\n");
        body.Append("{\"kind\":\"custom\",\"name\":\"business_transactions\",\"labels\":{\"type\":\"card\",\"status\":\"ok\"},\"value\":3}\n");
        HttpResponseMessage accepted = await http.PostAsync(events, Ndjson(body.ToString()));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        Assert.Equal("{\"accepted\":502}\n", await accepted.Content.ReadAsStringAsync());

        HttpResponseMessage rejected = await http.PostAsync(events, Ndjson(
            "{\"kind\":\"query\",\"database\":\"app1\",\"type\":\"SELECT\",\"duration_seconds\":0.1}\n{\"kind\":\"query\",\"database\":\"app1\",\"duration_seconds\":\"slow\"}\n"));
        Assert.Equal(HttpStatusCode.BadRequest, rejected.StatusCode);
        Assert.Equal("{\"error\":\"line 2: expected a number\",\"line\":2}\n", await rejected.Content.ReadAsStringAsync());

        string text = await MetricsAsync(exporter, http);
        Assert.Equal(500, Exposition.Value(text, "aishell_query_total{database=\"app1\",type=\"SELECT\",status=\"success\"}"));
        Assert.Equal(500, Exposition.Value(text, "aishell_query_duration_seconds_count{database=\"app1\",type=\"SELECT\"}"));
        Assert.Equal(1, Exposition.Value(text, "aishell_query_errors_total{database=\"app1\",type=\"UPDATE\",error=\"40P01\"}"));
        Assert.Equal(3, Exposition.Value(text, "aishell_business_transactions_total{type=\"card\",status=\"ok\"}"));
        Assert.Equal(502, Exposition.Value(text, "aishell_pipeline_events_received_total{source=\"http\"}"));
        await Promtool.AssertCleanAsync(text);
    }

    [Fact]
    public async Task Http_OversizeBody_Gets413_AndWrongMethod405()
    {
        await using ExporterProcess exporter = await ExporterProcess.StartAsync(Config);
        using var http = new HttpClient();
        var events = new Uri(exporter.BaseUrl, "/api/v1/events");
        string big = string.Concat(Enumerable.Repeat("{\"kind\":\"feature\",\"feature\":\"nl2sql\"}\n", 3000)); // > 64 KiB
        HttpResponseMessage tooLarge = await http.PostAsync(events, Ndjson(big));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await http.GetAsync(events)).StatusCode);
        Assert.DoesNotContain("aishell_feature_usage_total{", await MetricsAsync(exporter, http), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Http_UnderForcedOverload_Answers429_AndAcceptedEqualsCounted()
    {
        // A budget smaller than one request: a batch is admitted only into an empty pipeline, so
        // concurrent senders must be refused while another batch is still being folded. Query
        // events are tallied into a few samples per tuple, so each request also carries 1,500
        // feature events, a sample each: 1,500 samples and more per request.
        await using ExporterProcess exporter = await ExporterProcess.StartAsync(
            "prometheus:\n  collect_interval: 5\n  ingest:\n    max_pending_samples: 1000\n");
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 32 });
        var events = new Uri(exporter.BaseUrl, "/api/v1/events");
        const int Queries = 500, Features = 1500;
        string body = string.Concat(Enumerable.Repeat("{\"kind\":\"query\",\"database\":\"load\",\"type\":\"SELECT\",\"status\":\"error\",\"error\":\"40001\",\"duration_seconds\":0.7}\n", Queries))
            + string.Concat(Enumerable.Repeat("{\"kind\":\"feature\",\"feature\":\"nl2sql\"}\n", Features));
        long accepted = 0, refused = 0; // requests
        await Parallel.ForEachAsync(Enumerable.Range(0, 240), new ParallelOptions { MaxDegreeOfParallelism = 24 }, async (_, ct) =>
        {
            HttpResponseMessage response = await http.PostAsync(events, Ndjson(body), ct);
            if (response.StatusCode == HttpStatusCode.Accepted)
            {
                Interlocked.Increment(ref accepted);
            }
            else
            {
                Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
                Assert.Equal("1", response.Headers.GetValues("Retry-After").Single());
                Interlocked.Increment(ref refused);
            }
        });

        string text = await MetricsAsync(exporter, http);
        Assert.True(refused > 0, "no request was refused: the overload was not forced");
        Assert.True(accepted > 0);
        Assert.Equal(accepted * Queries, Exposition.Value(text, "aishell_query_total{database=\"load\",type=\"SELECT\",status=\"error\"}"));
        Assert.Equal(accepted * Queries, Exposition.Value(text, "aishell_query_errors_total{database=\"load\",type=\"SELECT\",error=\"40001\"}"));
        Assert.Equal(accepted * Queries, Exposition.Value(text, "aishell_query_duration_seconds_count{database=\"load\",type=\"SELECT\"}"));
        Assert.Equal(accepted * Features, Exposition.Value(text, "aishell_feature_usage_total{feature=\"nl2sql\"}"));
        Assert.Equal(refused * (Queries + Features), Exposition.Value(text, "aishell_pipeline_events_dropped_total{source=\"http\"}"));
    }

    [Fact]
    public async Task Udp_ValidLinesAreCounted_MalformedOnesDroppedByReason()
    {
        int udpPort = FreeUdpPort();
        await using ExporterProcess exporter = await ExporterProcess.StartAsync(
            $"prometheus:\n  collect_interval: 5\n  ingest:\n    udp_port: {udpPort}\n");
        // The ingest lines follow "Ready for scraping", so the harness may not have read them yet.
        Assert.Equal($"✓ DogStatsD ingest: udp://127.0.0.1:{udpPort}", await exporter.WaitForLineAsync("✓ DogStatsD ingest: "));
        using var udp = new UdpClient();
        udp.Connect(IPAddress.Loopback, udpPort);
        for (int i = 0; i < 100; i++)
        {
            byte[] packet = Encoding.UTF8.GetBytes(
                "aishell.query:12.5|ms|#database:app1,type:SELECT,status:success\n" +
                "aishell.feature:1|c|#feature:nl2sql\n" +
                "not a statsd line\n" +
                "aishell.query:fast|ms|#database:app1\n" +
                "aishell.unknown:1|c\n");
            await udp.SendAsync(packet);
        }

        using var http = new HttpClient();
        string text = "";
        for (int attempt = 0; attempt < 50; attempt++)
        {
            text = await MetricsAsync(exporter, http);
            if (text.Contains("aishell_pipeline_events_received_total{source=\"udp\"} 200\n", StringComparison.Ordinal))
            {
                break;
            }
        }

        Assert.Equal(100, Exposition.Value(text, "aishell_query_total{database=\"app1\",type=\"SELECT\",status=\"success\"}"));
        Assert.Equal(0.0125 * 100, Exposition.Value(text, "aishell_query_duration_seconds_sum{database=\"app1\",type=\"SELECT\"}"), 9);
        Assert.Equal(100, Exposition.Value(text, "aishell_feature_usage_total{feature=\"nl2sql\"}"));
        Assert.Equal(100, Exposition.Value(text, "aishell_pipeline_events_rejected_total{source=\"udp\",reason=\"syntax\"}"));
        Assert.Equal(100, Exposition.Value(text, "aishell_pipeline_events_rejected_total{source=\"udp\",reason=\"bad_value\"}"));
        Assert.Equal(100, Exposition.Value(text, "aishell_pipeline_events_rejected_total{source=\"udp\",reason=\"unknown_metric\"}"));
    }

    internal static int FreeUdpPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    [Fact]
    public async Task HostileLabelValues_ComeOutEscaped_AndPromtoolParsesTheScrape()
    {
        await using ExporterProcess exporter = await ExporterProcess.StartAsync(Config);
        using var http = new HttpClient();
        // Backslash, quote, newline, tab, emoji, and an injected exposition line.
        const string body = """
            {"kind":"custom","name":"business_transactions","labels":{"type":"a\\b \"q\" \n next","status":"lone\t✓🚀"},"value":1}
            {"kind":"query","database":"x\"} 1\nfake_metric 999","type":"SELECT","duration_seconds":0.1}

            """;
        HttpResponseMessage response = await http.PostAsync(new Uri(exporter.BaseUrl, "/api/v1/events"), Ndjson(body));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        string text = await MetricsAsync(exporter, http);
        Assert.Contains("aishell_business_transactions_total{type=\"a\\\\b \\\"q\\\" \\n next\",status=\"lone\t✓🚀\"} 1", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\nfake_metric 999", text, StringComparison.Ordinal); // an injected line stays inside its label value
        await Promtool.AssertCleanAsync(text);

        // A lone surrogate (invalid UTF-16: no UTF-8 for it) and invalid UTF-8 bytes are refused with a reason.
        HttpResponseMessage surrogate = await http.PostAsync(new Uri(exporter.BaseUrl, "/api/v1/events"),
            Ndjson("{\"kind\":\"feature\",\"feature\":\"\\ud800\"}\n"));
        Assert.Equal(HttpStatusCode.BadRequest, surrogate.StatusCode);
        Assert.Contains("unpaired surrogate", await surrogate.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var invalidUtf8 = new ByteArrayContent([.. "{\"kind\":\"feature\",\"feature\":\""u8, 0xC3, 0x28, .. "\"}\n"u8]);
        HttpResponseMessage badBytes = await http.PostAsync(new Uri(exporter.BaseUrl, "/api/v1/events"), invalidUtf8);
        Assert.Equal(HttpStatusCode.BadRequest, badBytes.StatusCode);

        string huge = new('x', 10_000);
        HttpResponseMessage tooLong = await http.PostAsync(new Uri(exporter.BaseUrl, "/api/v1/events"),
            Ndjson($"{{\"kind\":\"feature\",\"feature\":\"{huge}\"}}\n"));
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
        Assert.Contains("longer than 256 characters", await tooLong.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
