using System.Buffers;
using System.IO.Pipelines;
using System.Text.Encodings.Web;
using System.Text.Json;
using AiShell.Pipeline.Ingest;
using Microsoft.AspNetCore.Http;

namespace AiShell.Pipeline.Server;

/// <summary>
/// <c>POST /api/v1/events</c>: an NDJSON body, one event per line. 202 <c>{"accepted":N}</c> when
/// every line is valid and the pipeline took the batch; 400 naming the first bad line (nothing of
/// the batch is counted); 413 when the body is larger than the limit; 429 with Retry-After when
/// the pipeline is full (nothing counted; send the same batch again later).
/// </summary>
internal static class EventsEndpoint
{
    /// <summary>
    /// Event lists reused across requests: a 1,000-event request needs ~180 KB, which would land on
    /// the large-object heap every time and make every collection a gen2 one (seen in the soak).
    /// </summary>
    private static readonly System.Collections.Concurrent.ConcurrentQueue<List<IngestEvent>> Lists = new();
    private const int PooledLists = 32;

    public static async Task ServeAsync(HttpContext context, EventIngestor? ingestor, long maxBytes)
    {
        if (!HttpMethods.IsPost(context.Request.Method))
        {
            context.Response.Headers.Allow = "POST";
            await WriteJsonAsync(context, 405, "error", "use POST with an NDJSON body");
            return;
        }

        if (ingestor is null)
        {
            await WriteJsonAsync(context, 404, "error", "HTTP ingest is off (prometheus.ingest.http: false)");
            return;
        }

        if (context.Request.ContentLength > maxBytes)
        {
            ingestor.CountRefused(IngestSources.Http, "too_large", 0);
            await WriteJsonAsync(context, 413, "error", $"body larger than {maxBytes} bytes");
            return;
        }

        PipeReader body = context.Request.BodyReader;
        ReadResult read;
        while (true)
        {
            read = await body.ReadAsync(context.RequestAborted);
            if (read.Buffer.Length > maxBytes)
            {
                body.AdvanceTo(read.Buffer.End);
                ingestor.CountRefused(IngestSources.Http, "too_large", 0);
                await WriteJsonAsync(context, 413, "error", $"body larger than {maxBytes} bytes");
                return;
            }

            if (read.IsCompleted)
            {
                break;
            }

            body.AdvanceTo(read.Buffer.Start, read.Buffer.End);
        }

        List<IngestEvent> events = Lists.TryDequeue(out List<IngestEvent>? pooled) ? pooled : new List<IngestEvent>(1024);
        try
        {
            await ParseAndIngestAsync(context, ingestor, body, read, events);
        }
        finally
        {
            events.Clear();
            if (Lists.Count < PooledLists)
            {
                Lists.Enqueue(events);
            }
        }
    }

    private static async Task ParseAndIngestAsync(HttpContext context, EventIngestor ingestor, PipeReader body, ReadResult read, List<IngestEvent> events)
    {
        bool parsed;
        IngestError error;
        ReadOnlySequence<byte> buffer = read.Buffer;
        if (buffer.IsSingleSegment)
        {
            parsed = NdjsonParser.TryParse(buffer.FirstSpan, ingestor.Schema, events, out error);
        }
        else
        {
            byte[] rented = ArrayPool<byte>.Shared.Rent((int)buffer.Length);
            buffer.CopyTo(rented);
            parsed = NdjsonParser.TryParse(rented.AsSpan(0, (int)buffer.Length), ingestor.Schema, events, out error);
            ArrayPool<byte>.Shared.Return(rented);
        }

        body.AdvanceTo(buffer.End);
        if (!parsed)
        {
            ingestor.CountRefused(IngestSources.Http, "invalid", events.Count + 1);
            await WriteJsonAsync(context, 400, "error", $"line {error.Line}: {error.Reason}", error.Line);
            return;
        }

        if (!ingestor.TryIngest(events, IngestSources.Http))
        {
            ingestor.CountRefused(IngestSources.Http, "full", events.Count);
            context.Response.Headers.RetryAfter = "1";
            await WriteJsonAsync(context, 429, "error", "the pipeline is full; nothing of this batch was counted, retry it later");
            return;
        }

        context.Response.StatusCode = 202;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync($"{{\"accepted\":{events.Count}}}\n");
    }

    private static async Task WriteJsonAsync(HttpContext context, int status, string field, string message, int line = 0)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        using var stream = new MemoryStream();
        await using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString(field, message);
            if (line > 0)
            {
                json.WriteNumber("line", line);
            }

            json.WriteEndObject();
        }

        stream.WriteByte((byte)'\n');
        await context.Response.Body.WriteAsync(stream.GetBuffer().AsMemory(0, (int)stream.Length), context.RequestAborted);
    }
}
