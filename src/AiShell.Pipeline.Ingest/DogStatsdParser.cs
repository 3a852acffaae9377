using System.Globalization;
using System.Text;

namespace AiShell.Pipeline.Ingest;

/// <summary>
/// DogStatsD lines, so existing statsd clients can feed the exporter:
/// <c>aishell.query:12.5|ms|#database:app1,type:SELECT,status:success</c>.
/// <list type="table">
/// <item><term>aishell.query (ms|h|d)</term><description>query event; ms become seconds, h/d are seconds. Tags database, type, status, error, trace_id.</description></item>
/// <item><term>aishell.request (ms|h|d)</term><description>request event; tags method, endpoint, status.</description></item>
/// <item><term>aishell.connection.active / .pool_size (g), .wait (ms|h|d)</term><description>connection event; tag database.</description></item>
/// <item><term>aishell.connection_error (c)</term><description>tags database, error.</description></item>
/// <item><term>aishell.feature (c)</term><description>tag feature.</description></item>
/// <item><term>aishell.users (g)</term><description>tag role.</description></item>
/// <item><term>aishell.custom.NAME (c|g|h|d|ms)</term><description>a declared custom metric; tags are its labels.</description></item>
/// </list>
/// Counter sample rates (<c>|@0.1</c>) scale the count. Malformed lines are reported by reason.
/// </summary>
public static class DogStatsdParser
{
    public const string ReasonSyntax = "syntax";
    public const string ReasonUnknownMetric = "unknown_metric";
    public const string ReasonBadValue = "bad_value";
    public const string ReasonBadType = "bad_type";

    /// <summary>Parses one line; returns null and the event, or the drop reason.</summary>
    public static string? TryParse(ReadOnlySpan<char> line, string prefix, out IngestEvent e) => TryParse(line, prefix, null, out e);

    /// <summary>
    /// Parses one line, taking tag values from <paramref name="pool"/> when given (the UDP loop's:
    /// repeated values cost no allocation and come out as the same instances).
    /// </summary>
    internal static string? TryParse(ReadOnlySpan<char> line, string prefix, StringPool? pool, out IngestEvent e)
    {
        e = default;
        int colon = line.IndexOf(':');
        int bar = line.IndexOf('|');
        if (colon <= 0 || bar < colon)
        {
            return ReasonSyntax;
        }

        ReadOnlySpan<char> name = line[..colon];
        if (!double.TryParse(line[(colon + 1)..bar], NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value))
        {
            return ReasonBadValue;
        }

        ReadOnlySpan<char> rest = line[(bar + 1)..];
        int next = rest.IndexOf('|');
        ReadOnlySpan<char> type = next < 0 ? rest : rest[..next];
        double rate = 1;
        ReadOnlySpan<char> tags = default;
        while (next >= 0)
        {
            rest = rest[(next + 1)..];
            next = rest.IndexOf('|');
            ReadOnlySpan<char> part = next < 0 ? rest : rest[..next];
            if (part.StartsWith('@'))
            {
                if (!double.TryParse(part[1..], NumberStyles.Float, CultureInfo.InvariantCulture, out rate) || rate is <= 0 or > 1)
                {
                    return ReasonSyntax;
                }
            }
            else if (part.StartsWith('#'))
            {
                tags = part[1..];
            }
        }

        bool timer = type is "ms" or "h" or "d";
        double seconds = type is "ms" ? value / 1000.0 : value;
        if (!name.StartsWith(prefix, StringComparison.Ordinal) || name.Length <= prefix.Length || name[prefix.Length] != '.')
        {
            return ReasonUnknownMetric;
        }

        ReadOnlySpan<char> metric = name[(prefix.Length + 1)..];
        switch (metric)
        {
            case "query" when timer:
                e = new IngestEvent { Kind = EventKind.Query, Duration = seconds, Database = Tag(tags, "database", pool), Type = Tag(tags, "type", pool),
                    Status = Tag(tags, "status", pool), Error = Tag(tags, "error", pool), TraceId = Tag(tags, "trace_id", null) };
                return null;
            case "request" when timer:
                e = new IngestEvent { Kind = EventKind.Request, Duration = seconds, Method = Tag(tags, "method", pool), Endpoint = Tag(tags, "endpoint", pool),
                    HttpStatus = int.TryParse(TagSpan(tags, "status"), NumberStyles.None, CultureInfo.InvariantCulture, out int status) ? status : 0 };
                return null;
            case "connection.active" when type is "g":
                e = new IngestEvent { Kind = EventKind.Connection, Database = Tag(tags, "database", pool), Active = value };
                return null;
            case "connection.pool_size" when type is "g":
                e = new IngestEvent { Kind = EventKind.Connection, Database = Tag(tags, "database", pool), PoolSize = value };
                return null;
            case "connection.wait" when timer:
                e = new IngestEvent { Kind = EventKind.Connection, Database = Tag(tags, "database", pool), Wait = seconds };
                return null;
            case "connection_error" when type is "c":
                e = new IngestEvent { Kind = EventKind.ConnectionError, Database = Tag(tags, "database", pool), Error = Tag(tags, "error", pool), Value = value / rate };
                return null;
            case "feature" when type is "c":
                e = new IngestEvent { Kind = EventKind.Feature, Feature = Tag(tags, "feature", pool), Value = value / rate };
                return null;
            case "users" when type is "g":
                e = new IngestEvent { Kind = EventKind.Users, Role = Tag(tags, "role", pool), Active = value };
                return null;
            case "query" or "request" or "connection.active" or "connection.pool_size" or "connection.wait"
                or "connection_error" or "feature" or "users":
                return ReasonBadType;
        }

        if (metric.StartsWith("custom.", StringComparison.Ordinal) && type is "c" or "g" or "h" or "d" or "ms")
        {
            e = new IngestEvent { Kind = EventKind.Custom, Name = metric["custom.".Length..].ToString(), Labels = ParseTags(tags),
                Value = type is "c" ? value / rate : type is "ms" ? seconds : value };
            return null;
        }

        return metric.StartsWith("custom.", StringComparison.Ordinal) ? ReasonBadType : ReasonUnknownMetric;
    }

    private static List<KeyValuePair<string, string>> ParseTags(ReadOnlySpan<char> text)
    {
        var tags = new List<KeyValuePair<string, string>>();
        foreach (Range range in text.Split(','))
        {
            ReadOnlySpan<char> tag = text[range];
            int colon = tag.IndexOf(':');
            if (colon > 0)
            {
                tags.Add(new(tag[..colon].ToString(), tag[(colon + 1)..].ToString()));
            }
        }

        return tags;
    }

    /// <summary>The value of the first tag named <paramref name="name"/>, or null.</summary>
    private static string? Tag(ReadOnlySpan<char> tags, string name, StringPool? pool)
    {
        if (!TryFindTag(tags, name, out ReadOnlySpan<char> value))
        {
            return null;
        }

        return pool is null ? value.ToString() : pool.Get(value);
    }

    private static ReadOnlySpan<char> TagSpan(ReadOnlySpan<char> tags, string name) =>
        TryFindTag(tags, name, out ReadOnlySpan<char> value) ? value : default;

    private static bool TryFindTag(ReadOnlySpan<char> tags, string name, out ReadOnlySpan<char> value)
    {
        foreach (Range range in tags.Split(','))
        {
            ReadOnlySpan<char> tag = tags[range];
            if (tag.Length > name.Length && tag[name.Length] == ':' && tag.StartsWith(name, StringComparison.Ordinal))
            {
                value = tag[(name.Length + 1)..];
                return true;
            }
        }

        value = default;
        return false;
    }

    /// <summary>
    /// Splits a datagram (statsd clients pack several lines per packet): decodes it into
    /// <paramref name="scratch"/> and lists its non-empty lines as ranges of it (no string per line);
    /// returns how many characters were decoded.
    /// </summary>
    public static int SplitLines(ReadOnlySpan<byte> packet, Span<char> scratch, List<Range> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        int count = Encoding.UTF8.GetChars(packet, scratch);
        ReadOnlySpan<char> text = scratch[..count];
        foreach (Range range in text.Split('\n'))
        {
            (int offset, int length) = range.GetOffsetAndLength(count);
            while (length > 0 && text[offset + length - 1] == '\r')
            {
                length--;
            }

            if (length > 0)
            {
                lines.Add(new Range(offset, offset + length));
            }
        }

        return count;
    }
}
