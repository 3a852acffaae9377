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
    public static string? TryParse(ReadOnlySpan<char> line, string prefix, out IngestEvent e)
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
        List<KeyValuePair<string, string>>? tags = null;
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
                tags = ParseTags(part[1..]);
            }
        }

        bool timer = type is "ms" or "h" or "d";
        double seconds = type is "ms" ? value / 1000.0 : value;
        if (!name.StartsWith(prefix, StringComparison.Ordinal) || name.Length <= prefix.Length || name[prefix.Length] != '.')
        {
            return ReasonUnknownMetric;
        }

        string metric = name[(prefix.Length + 1)..].ToString();
        switch (metric)
        {
            case "query" when timer:
                e = new IngestEvent { Kind = EventKind.Query, Duration = seconds, Database = Tag(tags, "database"), Type = Tag(tags, "type"),
                    Status = Tag(tags, "status"), Error = Tag(tags, "error"), TraceId = Tag(tags, "trace_id") };
                return null;
            case "request" when timer:
                e = new IngestEvent { Kind = EventKind.Request, Duration = seconds, Method = Tag(tags, "method"), Endpoint = Tag(tags, "endpoint"),
                    HttpStatus = int.TryParse(Tag(tags, "status"), NumberStyles.None, CultureInfo.InvariantCulture, out int status) ? status : 0 };
                return null;
            case "connection.active" when type is "g":
                e = new IngestEvent { Kind = EventKind.Connection, Database = Tag(tags, "database"), Active = value };
                return null;
            case "connection.pool_size" when type is "g":
                e = new IngestEvent { Kind = EventKind.Connection, Database = Tag(tags, "database"), PoolSize = value };
                return null;
            case "connection.wait" when timer:
                e = new IngestEvent { Kind = EventKind.Connection, Database = Tag(tags, "database"), Wait = seconds };
                return null;
            case "connection_error" when type is "c":
                e = new IngestEvent { Kind = EventKind.ConnectionError, Database = Tag(tags, "database"), Error = Tag(tags, "error"), Value = value / rate };
                return null;
            case "feature" when type is "c":
                e = new IngestEvent { Kind = EventKind.Feature, Feature = Tag(tags, "feature"), Value = value / rate };
                return null;
            case "users" when type is "g":
                e = new IngestEvent { Kind = EventKind.Users, Role = Tag(tags, "role"), Active = value };
                return null;
            case "query" or "request" or "connection.active" or "connection.pool_size" or "connection.wait"
                or "connection_error" or "feature" or "users":
                return ReasonBadType;
        }

        if (metric.StartsWith("custom.", StringComparison.Ordinal) && type is "c" or "g" or "h" or "d" or "ms")
        {
            e = new IngestEvent { Kind = EventKind.Custom, Name = metric["custom.".Length..], Labels = tags ?? [],
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

    private static string? Tag(List<KeyValuePair<string, string>>? tags, string name)
    {
        if (tags is null)
        {
            return null;
        }

        foreach ((string key, string value) in tags)
        {
            if (key == name)
            {
                return value;
            }
        }

        return null;
    }

    /// <summary>Splits a datagram into lines (statsd clients pack several per packet).</summary>
    public static int SplitLines(ReadOnlySpan<byte> packet, Span<char> scratch, List<string> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        int count = Encoding.UTF8.GetChars(packet, scratch);
        ReadOnlySpan<char> text = scratch[..count];
        foreach (Range range in text.Split('\n'))
        {
            ReadOnlySpan<char> line = text[range].TrimEnd('\r');
            if (!line.IsEmpty)
            {
                lines.Add(line.ToString());
            }
        }

        return lines.Count;
    }
}
