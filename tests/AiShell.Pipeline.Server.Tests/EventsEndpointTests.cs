using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace AiShell.Pipeline.Server.Tests;

/// <summary>The events endpoint over real HTTP: what is counted for each refusal, gzip bodies, label limits.</summary>
public sealed class EventsEndpointTests
{
    private static string Features(int count, int badLine = 0) =>
        string.Concat(Enumerable.Range(1, count).Select(i => i == badLine ? "{\"kind\":\"feature\"}\n" : "{\"kind\":\"feature\",\"feature\":\"f\"}\n"));

    private static ByteArrayContent Ndjson(byte[] body, string? encoding = null)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
        if (encoding is not null)
        {
            content.Headers.ContentEncoding.Add(encoding);
        }

        return content;
    }

    private static byte[] Gzip(string text)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal))
        {
            gzip.Write(Encoding.UTF8.GetBytes(text));
        }

        return output.ToArray();
    }

    [Fact]
    public async Task ARefusedBatch_CountsEveryEventOfIt_NotTheNumberOfItsBadLine()
    {
        await using InProcessServer server = await InProcessServer.StartAsync();
        using var http = new HttpClient();

        HttpResponseMessage tenWithLineFiveBad = await http.PostAsync(server.Events, Ndjson(Encoding.UTF8.GetBytes(Features(10, badLine: 5))));
        Assert.Equal(HttpStatusCode.BadRequest, tenWithLineFiveBad.StatusCode);
        Assert.Contains("\"line\":5", await tenWithLineFiveBad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(10, server.Value("pipeline_events_rejected_total", "http", "invalid"));

        HttpResponseMessage threeWithLineOneBad = await http.PostAsync(server.Events, Ndjson(Encoding.UTF8.GetBytes(Features(3, badLine: 1))));
        Assert.Equal(HttpStatusCode.BadRequest, threeWithLineOneBad.StatusCode);
        Assert.Equal(13, server.Value("pipeline_events_rejected_total", "http", "invalid"));

        server.Drain();
        Assert.Equal(0, server.Value("feature_usage_total", "f"));
    }

    [Fact]
    public async Task OversizeBodies_WithALengthOrChunked_AreCountedAsTooLarge_AndInTheExportersOwnRequests()
    {
        await using InProcessServer server = await InProcessServer.StartAsync(maxBodyBytes: 1024);
        using var http = new HttpClient();
        byte[] big = Encoding.UTF8.GetBytes(Features(100)); // 3.7 KB

        HttpResponseMessage sized = await http.PostAsync(server.Events, Ndjson(big));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, sized.StatusCode);

        var chunked = new StreamContent(new MemoryStream(big));
        chunked.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
        using var request = new HttpRequestMessage(HttpMethod.Post, server.Events) { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        HttpResponseMessage streamed = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, streamed.StatusCode);

        Assert.Equal(2, server.Value("pipeline_events_rejected_total", "http", "too_large"));
        Assert.Equal(2, server.Value("exporter_http_requests_total", "POST", "/api/v1/events", "413"));
        server.Drain();
        Assert.Equal(0, server.Value("feature_usage_total", "f"));
    }

    [Fact]
    public async Task GzipBodies_AreInflatedUnderTheSameLimit_OtherEncodingsGet415()
    {
        await using InProcessServer server = await InProcessServer.StartAsync(maxBodyBytes: 64 * 1024);
        using var http = new HttpClient();

        HttpResponseMessage ok = await http.PostAsync(server.Events, Ndjson(Gzip(Features(50)), "gzip"));
        Assert.Equal(HttpStatusCode.Accepted, ok.StatusCode);
        Assert.Equal("{\"accepted\":50}\n", await ok.Content.ReadAsStringAsync());

        byte[] bomb = Gzip(Features(20_000)); // 740 KB of NDJSON in a few KB
        Assert.True(bomb.Length < 64 * 1024);
        HttpResponseMessage inflatedTooFar = await http.PostAsync(server.Events, Ndjson(bomb, "gzip"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, inflatedTooFar.StatusCode);
        Assert.Contains("once inflated", await inflatedTooFar.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        HttpResponseMessage notGzip = await http.PostAsync(server.Events, Ndjson(Encoding.UTF8.GetBytes(Features(2)), "gzip"));
        Assert.Equal(HttpStatusCode.BadRequest, notGzip.StatusCode);
        Assert.Contains("not valid gzip", await notGzip.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        HttpResponseMessage brotli = await http.PostAsync(server.Events, Ndjson(Encoding.UTF8.GetBytes(Features(2)), "br"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, brotli.StatusCode);
        Assert.Contains("Content-Encoding 'br' is not taken", await brotli.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        Assert.Equal(1, server.Value("pipeline_events_rejected_total", "http", "too_large"));
        Assert.Equal(1, server.Value("pipeline_events_rejected_total", "http", "invalid"));
        Assert.Equal(1, server.Value("pipeline_events_rejected_total", "http", "unsupported_encoding"));
        server.Drain();
        Assert.Equal(50, server.Value("feature_usage_total", "f"));
    }

    [Fact]
    public async Task InvalidUtf8_IsNamedByLineAndByte_AndEmojiCountAsOneCharacter()
    {
        await using InProcessServer server = await InProcessServer.StartAsync();
        using var http = new HttpClient();
        byte[] body = [.. Encoding.UTF8.GetBytes(Features(2)), .. "{\"kind\":\"feature\",\"feature\":\""u8, 0xFF, .. "\"}\n"u8];
        HttpResponseMessage bad = await http.PostAsync(server.Events, Ndjson(body));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("line 3: not valid UTF-8 at byte 30", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        string rockets = string.Concat(Enumerable.Repeat("🚀", 129)); // 258 UTF-16 units, 129 characters
        HttpResponseMessage emoji = await http.PostAsync(server.Events, Ndjson(Encoding.UTF8.GetBytes($"{{\"kind\":\"feature\",\"feature\":\"{rockets}\"}}\n")));
        Assert.Equal(HttpStatusCode.Accepted, emoji.StatusCode);
    }

    /// <summary>A gzip body cut short (on a flush boundary, or before its trailer) or followed by other bytes is refused whole.</summary>
    [Fact]
    public async Task ATruncatedOrPaddedGzipBody_IsRefusedWhole()
    {
        await using InProcessServer server = await InProcessServer.StartAsync();
        using var http = new HttpClient();
        byte[] whole = Gzip(Features(12));

        byte[] flushedAndCut;
        using (var output = new MemoryStream())
        {
            using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true))
            {
                gzip.Write(Encoding.UTF8.GetBytes(Features(6)));
                gzip.Flush(); // a sync flush: the stream can be cut here and still inflate
                flushedAndCut = output.ToArray();
                gzip.Write(Encoding.UTF8.GetBytes(Features(6)));
            }
        }

        byte[][] bad =
        [
            flushedAndCut,                                    // the first six lines, no end, no trailer
            whole[..^8],                                      // every line, no trailer
            whole[..10],                                      // the header alone
            [.. whole, .. "GARBAGE"u8],                        // a valid member, then other bytes
        ];
        foreach (byte[] body in bad)
        {
            HttpResponseMessage response = await http.PostAsync(server.Events, Ndjson(body, "gzip"));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("not valid gzip", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.Accepted, (await http.PostAsync(server.Events, Ndjson(whole, "gzip"))).StatusCode);
        server.Drain();
        Assert.Equal(12, server.Value("feature_usage_total", "f"));
    }
}
