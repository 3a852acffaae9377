using System.Net;
using System.Net.Sockets;
using System.Text;
using AiShell.Pipeline.IntegrationTests.Harness;

namespace AiShell.Pipeline.IntegrationTests;

/// <summary>DogStatsD on UDP: who may send (udp_allow), what the kernel drops (counted), and a warning when web auth is on.</summary>
public sealed class UdpIngestHardeningTests
{
    private static async Task<string> ScrapeUntilAsync(ExporterProcess exporter, string needle)
    {
        using var http = new HttpClient();
        string text = "";
        for (int i = 0; i < 50; i++)
        {
            text = await http.GetStringAsync(exporter.MetricsUrl);
            if (text.Contains(needle, StringComparison.Ordinal))
            {
                break;
            }

            await Task.Delay(200);
        }

        return text;
    }

    [Fact]
    public async Task DatagramsFromOutsideUdpAllow_AreDroppedAndCounted_InsideAreTaken()
    {
        int port = IngestTests.FreeUdpPort();
        // 127.0.0.2 is loopback too: a sender there is outside 127.0.0.1/32.
        await using ExporterProcess exporter = await ExporterProcess.StartAsync(
            $"prometheus:\n  collect_interval: 5\n  ingest:\n    udp_port: {port}\n    udp_allow: [127.0.0.1/32]\n");
        await exporter.WaitForLineAsync("✓ DogStatsD ingest: ");
        using (var outside = new UdpClient(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0)))
        {
            for (int i = 0; i < 7; i++)
            {
                await outside.SendAsync(Encoding.UTF8.GetBytes("aishell.feature:1|c|#feature:outside"), new IPEndPoint(IPAddress.Loopback, port));
            }
        }

        using (var inside = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0)))
        {
            for (int i = 0; i < 5; i++)
            {
                await inside.SendAsync(Encoding.UTF8.GetBytes("aishell.feature:1|c|#feature:inside"), new IPEndPoint(IPAddress.Loopback, port));
            }
        }

        string text = await ScrapeUntilAsync(exporter, "aishell_feature_usage_total{feature=\"inside\"} 5\n");
        Assert.Equal(5, Exposition.Value(text, "aishell_feature_usage_total{feature=\"inside\"}"));
        Assert.False(Exposition.Has(text, "aishell_feature_usage_total{feature=\"outside\"}"));
        Assert.Equal(7, Exposition.Value(text, "aishell_pipeline_udp_datagrams_dropped_total{reason=\"not_allowed\"}"));
    }

    [Fact]
    public async Task WhatTheKernelDrops_WhileTheExporterCannotRead_IsCounted()
    {
        int port = IngestTests.FreeUdpPort();
        await using ExporterProcess exporter = await ExporterProcess.StartAsync(
            $"prometheus:\n  collect_interval: 5\n  ingest:\n    udp_port: {port}\n    udp_receive_buffer_bytes: 65536\n");
        await exporter.WaitForLineAsync("✓ DogStatsD ingest: ");
        byte[] datagram = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("aishell.feature:1|c|#feature:burst\n", 28)));
        const int Sent = 2000;
        ProcessRunner.Signal(exporter.Process, 19); // SIGSTOP: nothing reads the socket
        try
        {
            using var udp = new UdpClient();
            udp.Connect(IPAddress.Loopback, port);
            for (int i = 0; i < Sent; i++)
            {
                await udp.SendAsync(datagram);
            }
        }
        finally
        {
            ProcessRunner.Signal(exporter.Process, 18); // SIGCONT
        }

        string text = await ScrapeUntilAsync(exporter, "aishell_pipeline_udp_datagrams_dropped_total{reason=\"kernel\"} ");
        double dropped = Exposition.Value(text, "aishell_pipeline_udp_datagrams_dropped_total{reason=\"kernel\"}");
        for (int i = 0; i < 30 && dropped == 0; i++)
        {
            await Task.Delay(200); // the count is read from /proc/net/udp once a second
            text = await ScrapeUntilAsync(exporter, "aishell_feature_usage_total");
            dropped = Exposition.Value(text, "aishell_pipeline_udp_datagrams_dropped_total{reason=\"kernel\"}");
        }

        double received = Exposition.Value(text, "aishell_feature_usage_total{feature=\"burst\"}") / 28;
        Assert.True(dropped > 0, "a 64 KiB buffer cannot hold 2,000 datagrams of 1 KiB");
        Assert.Equal(Sent, received + dropped); // every datagram is either folded or counted as dropped
    }

    [Fact]
    public async Task ARequestEventForTheExportersOwnPath_NeverLandsInTheExportersOwnFamilies()
    {
        await using ExporterProcess exporter = await ExporterProcess.StartAsync("prometheus:\n  collect_interval: 5\n");
        using var http = new HttpClient();
        await http.GetStringAsync(exporter.MetricsUrl);
        var post = await http.PostAsync(new Uri(exporter.BaseUrl, "/api/v1/events"),
            new StringContent("{\"kind\":\"request\",\"method\":\"GET\",\"endpoint\":\"/metrics\",\"status\":200,\"duration_seconds\":99}\n"));
        Assert.Equal(HttpStatusCode.Accepted, post.StatusCode);
        string text = await ScrapeUntilAsync(exporter, "aishell_http_request_duration_seconds_sum{method=\"GET\",endpoint=\"/metrics\"} 99");
        Assert.Equal(99, Exposition.Value(text, "aishell_http_request_duration_seconds_sum{method=\"GET\",endpoint=\"/metrics\"}"));
        Assert.Equal(1, Exposition.Value(text, "aishell_http_requests_total{method=\"GET\",endpoint=\"/metrics\",status=\"200\"}"));
        Assert.True(Exposition.Value(text, "aishell_exporter_http_request_duration_seconds_sum{method=\"GET\",endpoint=\"/metrics\"}") < 5);
        Assert.True(Exposition.Value(text, "aishell_exporter_http_requests_total{method=\"GET\",endpoint=\"/metrics\",status=\"200\"}") >= 1);
    }

    [Fact]
    public async Task UdpIngestBesideWebAuth_IsWarnedAboutAtStart()
    {
        int port = IngestTests.FreeUdpPort();
        await using ExporterProcess exporter = await ExporterProcess.StartAsync(
            $"prometheus:\n  ingest:\n    udp_port: {port}\n  web:\n    bearer_tokens: ['udp-warning-token-0123456789']\n    protect_health: false\n");
        Assert.Contains("takes events from any sender", exporter.Stderr, StringComparison.Ordinal);
        Assert.Contains("prometheus.ingest.udp_allow", exporter.Stderr, StringComparison.Ordinal);
    }
}
