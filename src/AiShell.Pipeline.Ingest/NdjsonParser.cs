using System.Buffers;
using System.Text.Json;

namespace AiShell.Pipeline.Ingest;

/// <summary>A rejected batch: the first bad line (1-based) and why.</summary>
public readonly record struct IngestError(int Line, string Reason);

/// <summary>Takes each validated event of a body as it is parsed.</summary>
public interface IEventSink
{
    void Add(ref IngestEvent e);
}

/// <summary>
/// <c>POST /api/v1/events</c> bodies: one JSON object per line. Every line is parsed and validated
/// before anything is folded, so a batch with one bad line is rejected whole. Unknown fields are
/// errors (a typo such as <c>duraton_seconds</c> must not silently count a zero).
/// </summary>
public static class NdjsonParser
{
    /// <summary>Parses a whole body into <paramref name="events"/>; on a bad line the list holds the lines before it.</summary>
    public static bool TryParse(ReadOnlySpan<byte> body, EventSchema schema, List<IngestEvent> events, out IngestError error)
    {
        ArgumentNullException.ThrowIfNull(events);
        var sink = new ListSink(events);
        return TryParse(new ReadOnlySequence<byte>(body.ToArray()), schema, ref sink, out error);
    }

    /// <summary>
    /// Parses a body line by line into <paramref name="sink"/>, as the server read it, in pieces:
    /// each line is parsed where it lies, and only a line that spans two pieces is copied (into a
    /// small reused buffer). Stops at the first bad line.
    /// </summary>
    public static bool TryParse<TSink>(in ReadOnlySequence<byte> body, EventSchema schema, ref TSink sink, out IngestError error)
        where TSink : IEventSink
    {
        ArgumentNullException.ThrowIfNull(schema);
        var reader = new SequenceReader<byte>(body);
        byte[]? spanning = null;
        int lineNumber = 0;
        try
        {
            while (!reader.End)
            {
                ReadOnlySpan<byte> line;
                if (reader.TryReadTo(out ReadOnlySequence<byte> piece, (byte)'\n'))
                {
                    line = piece.IsSingleSegment ? piece.FirstSpan : (spanning = Copy(piece, spanning)).AsSpan(0, (int)piece.Length);
                }
                else
                {
                    ReadOnlySequence<byte> rest = reader.UnreadSequence;
                    line = rest.IsSingleSegment ? rest.FirstSpan : (spanning = Copy(rest, spanning)).AsSpan(0, (int)rest.Length);
                    reader.AdvanceToEnd();
                }

                if (!TryAdd(line, ++lineNumber, schema, ref sink, out error))
                {
                    return false;
                }
            }
        }
        finally
        {
            if (spanning is not null)
            {
                ArrayPool<byte>.Shared.Return(spanning);
            }
        }

        error = default;
        return true;
    }

    /// <summary>The events a body holds: its lines that are not blank (what a refused batch counts as refused).</summary>
    public static int CountEvents(in ReadOnlySequence<byte> body)
    {
        int events = 0;
        var reader = new SequenceReader<byte>(body);
        while (!reader.End)
        {
            if (!reader.TryReadTo(out ReadOnlySequence<byte> line, (byte)'\n'))
            {
                line = reader.UnreadSequence;
                reader.AdvanceToEnd();
            }

            foreach (ReadOnlyMemory<byte> piece in line)
            {
                if (piece.Span.IndexOfAnyExcept((byte)' ', (byte)'\r', (byte)'\t') >= 0)
                {
                    events++;
                    break;
                }
            }
        }

        return events;
    }

    /// <summary>Copies a line that spans pieces into <paramref name="buffer"/>, grown when it is too small; returns the buffer.</summary>
    private static byte[] Copy(in ReadOnlySequence<byte> piece, byte[]? buffer)
    {
        if (buffer is null || buffer.Length < piece.Length)
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            buffer = ArrayPool<byte>.Shared.Rent((int)Math.Max(piece.Length, 1024));
        }

        piece.CopyTo(buffer);
        return buffer;
    }

    /// <summary>Parses and validates one line and gives it to the sink; false with the error when it is bad.</summary>
    private static bool TryAdd<TSink>(ReadOnlySpan<byte> line, int lineNumber, EventSchema schema, ref TSink sink, out IngestError error)
        where TSink : IEventSink
    {
        ReadOnlySpan<byte> raw = line;
        line = line.TrimEnd((byte)'\r').Trim((byte)' ');
        error = default;
        if (line.IsEmpty)
        {
            return true;
        }

        string? reason;
        IngestEvent e = default;
        try
        {
            reason = ParseLine(line, ref e) ?? schema.Validate(ref e);
        }
        catch (JsonException ex)
        {
            reason = InvalidUtf8(raw) ?? "not valid JSON: " + FirstSentence(ex.Message);
        }
        catch (InvalidOperationException)
        {
            // GetString on bytes that are not UTF-8, or on an escape that is not valid UTF-16 (a
            // lone surrogate such as \ud800).
            reason = InvalidUtf8(raw) ?? "a string holds an unpaired surrogate escape (such as \\ud800): not a Unicode character";
        }

        if (reason is null)
        {
            sink.Add(ref e);
            return true;
        }

        error = new IngestError(lineNumber, reason);
        return false;
    }

    /// <summary>Where a line stops being UTF-8 ("not valid UTF-8 at byte 17", 1-based in the line), or null when it is UTF-8.</summary>
    private static string? InvalidUtf8(ReadOnlySpan<byte> line)
    {
        int at = 0;
        while (at < line.Length)
        {
            if (System.Text.Rune.DecodeFromUtf8(line[at..], out _, out int consumed) != OperationStatus.Done)
            {
                return $"not valid UTF-8 at byte {at + 1} (the body must be UTF-8 text)";
            }

            at += consumed;
        }

        return null;
    }

    private struct ListSink(List<IngestEvent> events) : IEventSink
    {
        public readonly void Add(ref IngestEvent e) => events.Add(e);
    }

    private static string? ParseLine(ReadOnlySpan<byte> line, ref IngestEvent e)
    {
        var reader = new Utf8JsonReader(line, new JsonReaderOptions { MaxDepth = 4 });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return "each line must be a JSON object";
        }

        string? kind = null;
        double? numericStatus = null; // a request's status is a number; a query's is a word
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string field = Pooled(ref reader);
            reader.Read();
            string? problem = field switch
            {
                "kind" => Text(ref reader, out kind),
                "database" => Text(ref reader, out e.Database),
                "type" => Text(ref reader, out e.Type),
                "status" => reader.TokenType == JsonTokenType.Number ? Optional(ref reader, out numericStatus) : Text(ref reader, out e.Status),
                "error" => Text(ref reader, out e.Error),
                "trace_id" or "query_id" => Text(ref reader, out e.TraceId, pooled: false), // unique per event: would fill the pool
                "duration_seconds" => Number(ref reader, out e.Duration),
                "active" => Optional(ref reader, out e.Active),
                "pool_size" => Optional(ref reader, out e.PoolSize),
                "wait_seconds" => Optional(ref reader, out e.Wait),
                "method" => Text(ref reader, out e.Method),
                "endpoint" => Text(ref reader, out e.Endpoint),
                "size_bytes" => Optional(ref reader, out e.Size),
                "feature" => Text(ref reader, out e.Feature),
                "role" => Text(ref reader, out e.Role),
                "name" => Text(ref reader, out e.Name),
                "value" => Number(ref reader, out e.Value),
                "labels" => Labels(ref reader, out e.Labels),
                _ => $"unknown field '{field}'",
            };
            if (problem is not null)
            {
                return problem;
            }
        }

        if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
        {
            return "unexpected content after the object";
        }

        switch (kind)
        {
            case "query": e.Kind = EventKind.Query; break;
            case "connection": e.Kind = EventKind.Connection; break;
            case "connection_error": e.Kind = EventKind.ConnectionError; break;
            case "request":
                e.Kind = EventKind.Request;
                e.HttpStatus = numericStatus is { } d && d == Math.Floor(d) && d is >= 0 and <= int.MaxValue ? (int)d
                    : int.TryParse(e.Status, out int code) ? code : 0;
                e.Status = null;
                break;
            case "feature": e.Kind = EventKind.Feature; break;
            case "users": e.Kind = EventKind.Users; break;
            case "custom": e.Kind = EventKind.Custom; break;
            case null: return "kind is required";
            default: return $"kind '{kind}' is not one of query, connection, connection_error, request, feature, users, custom";
        }

        return null;
    }

    private static string? Text(ref Utf8JsonReader reader, out string? value, bool pooled = true)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            value = null;
            return "expected a string";
        }

        value = pooled ? Pooled(ref reader) : reader.GetString();
        return null;
    }

    [ThreadStatic]
    private static Utf8StringPool? t_strings;

    /// <summary>The token's text (a property name or a string), the same instance each time this thread sees it.</summary>
    private static string Pooled(ref Utf8JsonReader reader) => (t_strings ??= new Utf8StringPool()).Get(ref reader);

    private static string? Number(ref Utf8JsonReader reader, out double value)
    {
        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetDouble(out value))
        {
            value = 0;
            return "expected a number";
        }

        return null;
    }

    private static string? Optional(ref Utf8JsonReader reader, out double? value)
    {
        string? problem = Number(ref reader, out double v);
        value = problem is null ? v : null;
        return problem;
    }

    private static string? Labels(ref Utf8JsonReader reader, out List<KeyValuePair<string, string>>? labels)
    {
        labels = null;
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return "labels must be an object of strings";
        }

        labels = [];
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string name = Pooled(ref reader);
            reader.Read();
            if (reader.TokenType != JsonTokenType.String)
            {
                return $"label '{name}' must be a string";
            }

            labels.Add(new(name, Pooled(ref reader)));
        }

        return null;
    }

    private static string FirstSentence(string message)
    {
        int end = message.IndexOf(". ", StringComparison.Ordinal);
        return end < 0 ? message : message[..end];
    }
}
