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
/// the pipeline is full or the bodies in flight fill prometheus.ingest.max_inflight_bytes (nothing
/// counted; send the same batch again later).
/// </summary>
internal static class EventsEndpoint
{
    /// <summary>
    /// Bodies up to this size parse without waiting for a parse slot (<see cref="IngestGate.Parsing"/>):
    /// the many small requests of a busy client never queue behind a few large ones.
    /// </summary>
    private const int UngatedBytes = 64 * 1024;

    public static async Task ServeAsync(HttpContext context, EventIngestor? ingestor, long maxBytes, IngestGate gate)
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
            await TooLargeAsync(context, ingestor, maxBytes);
            return;
        }

        long reserved = 0;
        using var buffer = new BodyBuffer();
        try
        {
            if (context.Request.ContentLength is { } length)
            {
                if (!gate.TryReserve(length))
                {
                    await BusyAsync(context, ingestor, gate);
                    return;
                }

                reserved = length;
            }

            PipeReader body = context.Request.BodyReader;
            while (true)
            {
                ReadResult read;
                try
                {
                    read = await body.ReadAsync(context.RequestAborted);
                }
                catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
                {
                    await TooLargeAsync(context, ingestor, maxBytes); // a chunked body past Kestrel's limit
                    return;
                }

                long have = buffer.Length + read.Buffer.Length;
                if (have > maxBytes)
                {
                    body.AdvanceTo(read.Buffer.End);
                    await TooLargeAsync(context, ingestor, maxBytes);
                    return;
                }

                if (have > reserved)
                {
                    if (!gate.TryReserve(have - reserved))
                    {
                        body.AdvanceTo(read.Buffer.End);
                        await BusyAsync(context, ingestor, gate);
                        return;
                    }

                    reserved = have;
                }

                buffer.Append(read.Buffer);
                body.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted)
                {
                    break;
                }
            }

            bool gated = buffer.Length > UngatedBytes;
            if (gated)
            {
                await gate.Parsing.WaitAsync(context.RequestAborted);
            }

            try
            {
                await ParseAndIngestAsync(context, ingestor, buffer);
            }
            finally
            {
                if (gated)
                {
                    gate.Parsing.Release();
                }
            }
        }
        finally
        {
            gate.Release(reserved);
        }
    }

    /// <summary>413: one refused request counted (its events were never read).</summary>
    private static Task TooLargeAsync(HttpContext context, EventIngestor ingestor, long maxBytes)
    {
        ingestor.CountRefused(IngestSources.Http, "too_large", 1);
        return WriteJsonAsync(context, 413, "error", $"body larger than prometheus.ingest.max_body_bytes ({maxBytes} bytes)");
    }

    /// <summary>429: the bodies being read and parsed already fill prometheus.ingest.max_inflight_bytes.</summary>
    private static Task BusyAsync(HttpContext context, EventIngestor ingestor, IngestGate gate)
    {
        ingestor.CountRefused(IngestSources.Http, "busy", 1);
        context.Response.Headers.RetryAfter = "1";
        return WriteJsonAsync(context, 429, "error",
            $"too many event bytes in flight (prometheus.ingest.max_inflight_bytes, {gate.MaxInflightBytes}); nothing of this request was counted, retry it later");
    }

    /// <summary>
    /// Parses the body line by line, folding each event as it comes; a bad line drops the whole
    /// batch (400, its events counted as rejected), a full pipeline refuses it (429, counted as dropped).
    /// </summary>
    private static async Task ParseAndIngestAsync(HttpContext context, EventIngestor ingestor, BodyBuffer buffer)
    {
        ReadOnlySequence<byte> body = buffer.AsSequence();
        bool parsed, committed = false;
        IngestError error;
        int accepted;
        EventIngestor.EventBatch batch = ingestor.BeginBatch(IngestSources.Http, buffer.CountLines());
        try
        {
            parsed = NdjsonParser.TryParse(body, ingestor.Schema, ref batch, out error);
            accepted = batch.Count;
            if (parsed)
            {
                committed = batch.TryCommit();
            }
        }
        finally
        {
            batch.Dispose();
        }

        if (!parsed)
        {
            ingestor.CountRefused(IngestSources.Http, "invalid", NdjsonParser.CountEvents(body));
            await WriteJsonAsync(context, 400, "error", $"line {error.Line}: {error.Reason}", error.Line);
            return;
        }

        if (!committed)
        {
            ingestor.CountRefused(IngestSources.Http, "full", accepted);
            context.Response.Headers.RetryAfter = "1";
            await WriteJsonAsync(context, 429, "error", "the pipeline is full; nothing of this batch was counted, retry it later");
            return;
        }

        context.Response.StatusCode = 202;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync($"{{\"accepted\":{accepted}}}\n");
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
