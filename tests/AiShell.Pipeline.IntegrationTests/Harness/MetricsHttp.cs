using System.IO.Compression;
using System.Net.Http.Headers;
using System.Text;

namespace AiShell.Pipeline.IntegrationTests.Harness;

/// <summary>One GET as a scraper sends it: an Accept header, optionally gzip (decompressed here, by hand, so the test sees the encoding).</summary>
internal static class MetricsHttp
{
    public static async Task<(HttpResponseMessage Response, string Body)> GetAsync(HttpClient http, Uri url, string? accept = null, bool gzip = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (accept is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }

        if (gzip)
        {
            request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("gzip"));
        }

        HttpResponseMessage response = await http.SendAsync(request);
        byte[] bytes = await response.Content.ReadAsByteArrayAsync();
        if (response.Content.Headers.ContentEncoding.Contains("gzip"))
        {
            using var unzip = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
            using var plain = new MemoryStream();
            await unzip.CopyToAsync(plain);
            bytes = plain.ToArray();
        }

        return (response, Encoding.UTF8.GetString(bytes));
    }
}
