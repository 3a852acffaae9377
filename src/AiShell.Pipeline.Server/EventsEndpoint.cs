using System.Buffers;
using System.IO.Pipelines;
using System.Text.Encodings.Web;
using System.Text.Json;
using AiShell.Pipeline.Ingest;
using Microsoft.AspNetCore.Http;

namespace AiShell.Pipeline.Server;

/// <summary>
/// <c>POST /api/v1/events</c>: an NDJSON body, one event per line, as it is or with
/// <c>Content-Encoding: gzip</c>. 202 <c>{"accepted":N}</c> when every line is valid and the
/// pipeline took the batch; 400 naming the first bad line (nothing of the batch is counted, all
/// its events counted as rejected); 413 when the body (inflated, for gzip) is larger than the
/// limit; 415 for another encoding; 429 with Retry-After when the pipeline is full or the bodies in
/// flight fill prometheus.ingest.max_inflight_bytes (nothing counted; send the same batch again later).
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

        bool gzip = false;
        if (context.Request.Headers.ContentEncoding.ToString() is { Length: > 0 } encoding && !encoding.Equals("identity", StringComparison.OrdinalIgnoreCase))
        {
            if (!encoding.Equals("gzip", StringComparison.OrdinalIgnoreCase))
            {
                ingestor.CountRefused(IngestSources.Http, "unsupported_encoding", 1);
                await WriteJsonAsync(context, 415, "error", $"Content-Encoding '{encoding}' is not taken: send the body as it is, or gzip it");
                return;
            }

            gzip = true;
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

            BodyBuffer? inflated = null;
            if (gzip)
            {
                (inflated, string? problem, int status) = await InflateAsync(buffer, maxBytes, gate, context.RequestAborted);
                if (problem is not null)
                {
                    ingestor.CountRefused(IngestSources.Http, status == 413 ? "too_large" : status == 429 ? "busy" : "invalid", 1);
                    if (status == 429)
                    {
                        context.Response.Headers.RetryAfter = "1";
                    }

                    await WriteJsonAsync(context, status, "error", problem);
                    return;
                }

                reserved += inflated!.Length;
            }

            using BodyBuffer? owned = inflated;
            BodyBuffer events = inflated ?? buffer;
            bool gated = events.Length > UngatedBytes;
            if (gated)
            {
                await gate.Parsing.WaitAsync(context.RequestAborted);
            }

            try
            {
                await ParseAndIngestAsync(context, ingestor, events);
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

    /// <summary>
    /// A gzip body, inflated under the same limit as a plain one (max_body_bytes on the inflated
    /// bytes, which also count against max_inflight_bytes): a small bomb is refused once it has
    /// inflated past the limit, never held whole. Returns the inflated body, or why not with the
    /// status to answer (400 not gzip, 413 too large, 429 busy).
    /// </summary>
    private static async Task<(BodyBuffer? Body, string? Problem, int Status)> InflateAsync(BodyBuffer compressed, long maxBytes, IngestGate gate,
        CancellationToken cancellationToken)
    {
        var inflated = new BodyBuffer();
        var trailer = new GzipTrailer();
        long reserved = 0;
        byte[] chunk = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            await using var gunzip = new System.IO.Compression.GZipStream(PipeReader.Create(compressed.AsSequence()).AsStream(), System.IO.Compression.CompressionMode.Decompress);
            while (true)
            {
                int read;
                try
                {
                    read = await gunzip.ReadAsync(chunk, cancellationToken);
                }
                catch (InvalidDataException)
                {
                    return Fail("the body is not valid gzip (Content-Encoding: gzip)", 400);
                }

                if (read == 0)
                {
                    if (!trailer.Matches(compressed.AsSequence(), inflated.Length))
                    {
                        return Fail("the body is not valid gzip (cut short, or followed by other bytes)", 400);
                    }

                    reserved = 0; // the inflated length stays reserved: the caller releases it with the body
                    BodyBuffer done = inflated;
                    inflated = null;
                    return (done, null, 0);
                }

                if (inflated.Length + read > maxBytes)
                {
                    return Fail($"body larger than prometheus.ingest.max_body_bytes ({maxBytes} bytes) once inflated", 413);
                }

                if (!gate.TryReserve(read))
                {
                    return Fail(BusyMessage(gate), 429);
                }

                reserved += read;
                trailer.Add(chunk.AsSpan(0, read));
                inflated.Append(new ReadOnlySequence<byte>(chunk, 0, read));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
            gate.Release(reserved);
            inflated?.Dispose();
        }

        (BodyBuffer?, string?, int) Fail(string problem, int status) => (null, problem, status);
    }

    /// <summary>413: one refused request counted (its events were never read).</summary>
    private static Task TooLargeAsync(HttpContext context, EventIngestor ingestor, long maxBytes)
    {
        ingestor.CountRefused(IngestSources.Http, "too_large", 1);
        return WriteJsonAsync(context, 413, "error", $"body larger than prometheus.ingest.max_body_bytes ({maxBytes} bytes)");
    }

    private static string BusyMessage(IngestGate gate) =>
        $"too many event bytes in flight (prometheus.ingest.max_inflight_bytes, {gate.MaxInflightBytes}); nothing of this request was counted, retry it later";

    /// <summary>429: the bodies being read and parsed already fill prometheus.ingest.max_inflight_bytes.</summary>
    private static Task BusyAsync(HttpContext context, EventIngestor ingestor, IngestGate gate)
    {
        ingestor.CountRefused(IngestSources.Http, "busy", 1);
        context.Response.Headers.RetryAfter = "1";
        return WriteJsonAsync(context, 429, "error", BusyMessage(gate));
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
