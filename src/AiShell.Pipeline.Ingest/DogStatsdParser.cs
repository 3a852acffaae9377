using System.Globalization;
using System.Text;
using AiShell.Pipeline.Metrics;

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
/// <item><term>aishell.custom.NAME</term><description>a declared custom metric, by its type: c for a counter, g for a gauge, ms|h|d for a histogram; tags are its labels.</description></item>
/// </list>
/// Sample rates (<c>|@0.1</c>) scale a counter's increment and make a timing stand for round(1/rate)
/// observations; rates below <see cref="MinSampleRate"/> are refused. Timings may carry several
/// values (<c>:0.5:120:3000|ms</c>, DogStatsD 1.1). A gauge value with a sign changes the gauge by
/// that amount. Malformed lines are reported by reason.
/// </summary>
/// <summary>The declared type of a custom metric by name, or null when none is declared.</summary>
public delegate MetricType? CustomMetricType(ReadOnlySpan<char> name);

public static class DogStatsdParser
{
    public const string ReasonSyntax = "syntax";
    public const string ReasonUnknownMetric = "unknown_metric";
    public const string ReasonBadValue = "bad_value";
    public const string ReasonBadType = "bad_type";

    /// <summary>
    /// The smallest sample rate taken (<c>|@0.000001</c>): one event then stands for a million.
    /// Smaller rates are refused as <see cref="ReasonBadValue"/>: <c>@1e-300</c> turned a 1 into 1e300.
    /// </summary>
    public const double MinSampleRate = 1e-6;

    /// <summary>Parses one line; returns null and the event, or the drop reason.</summary>
    public static string? TryParse(ReadOnlySpan<char> line, string prefix, out IngestEvent e) => TryParse(line, prefix, null, null, out e, out _);

    /// <summary>
    /// Parses one line, taking tag values from <paramref name="pool"/> when given (the UDP loop's:
    /// repeated values cost no allocation and come out as the same instances).
    /// </summary>
    internal static string? TryParse(ReadOnlySpan<char> line, string prefix, StringPool? pool, out IngestEvent e) =>
        TryParse(line, prefix, pool, null, out e, out _);

    /// <summary>
    /// Every event of one line: one per value (<c>name:0.5:120:3000|ms</c> is three), each checked
    /// against the declared custom metrics' types. Returns null, or the reason the whole line is
    /// refused (nothing of it is added then).
    /// </summary>
    public static string? TryParseAll(ReadOnlySpan<char> line, string prefix, CustomMetricType? customTypes, List<IngestEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        string? reason = TryParse(line, prefix, null, customTypes, out IngestEvent first, out int values);
        if (reason is not null)
        {
            return reason;
        }

        events.Add(first);
        if (values > 1)
        {
            var others = new OtherValues(line);
            while (others.Next(out double seconds))
            {
                events.Add(WithValue(first, seconds));
            }
        }

        return null;
    }

    /// <summary>
    /// The values after the first of a multi-value timing (<c>name:v1:v2:v3|ms</c>), in seconds,
    /// one pass over the line. Only for a line <see cref="TryParse(ReadOnlySpan{char}, string, StringPool?, CustomMetricType?, out IngestEvent, out int)"/>
    /// accepted: every value was checked then.
    /// </summary>
    internal ref struct OtherValues
    {
        private ReadOnlySpan<char> _rest;
        private readonly double _scale;

        public OtherValues(ReadOnlySpan<char> line)
        {
            int colon = line.IndexOf(':');
            int bar = line.IndexOf('|');
            ReadOnlySpan<char> values = line[(colon + 1)..bar];
            int first = values.IndexOf(':');
            _rest = first < 0 ? default : values[(first + 1)..];
            ReadOnlySpan<char> type = line[(bar + 1)..];
            int end = type.IndexOf('|');
            _scale = (end < 0 ? type : type[..end]) is "ms" ? 0.001 : 1;
        }

        public bool Next(out double seconds)
        {
            seconds = 0;
            if (_rest.IsEmpty)
            {
                return false;
            }

            int colon = _rest.IndexOf(':');
            ReadOnlySpan<char> text = colon < 0 ? _rest : _rest[..colon];
            _rest = colon < 0 ? default : _rest[(colon + 1)..];
            TryParseNumber(text, out double value);
            seconds = value * _scale;
            return true;
        }
    }

    /// <summary>The event of another value of the same multi-value timing: the same tags and rate, another observation.</summary>
    internal static IngestEvent WithValue(in IngestEvent first, double seconds)
    {
        IngestEvent e = first;
        switch (e.Kind)
        {
            case EventKind.Query or EventKind.Request:
                e.Duration = seconds;
                break;
            case EventKind.Connection:
                e.Wait = seconds;
                break;
            default:
                e.Value = seconds;
                break;
        }

        return e;
    }

    /// <summary>
    /// The event of a line's first value, and how many values the line has (<c>name:v1:v2|ms</c>).
    /// Every value is checked, so a line is taken whole or refused whole; the others come from
    /// <see cref="OtherValues"/> and <see cref="WithValue"/>.
    /// </summary>
    internal static string? TryParse(ReadOnlySpan<char> line, string prefix, StringPool? pool, CustomMetricType? customTypes,
        out IngestEvent e, out int values)
    {
        e = default;
        values = 1;
        if (TryParseQuery(line, prefix, pool, ref e))
        {
            return null;
        }

        int colon = line.IndexOf(':');
        int bar = line.IndexOf('|');
        if (colon <= 0 || bar < colon)
        {
            return ReasonSyntax;
        }

        ReadOnlySpan<char> name = line[..colon];
        ReadOnlySpan<char> allValues = line[(colon + 1)..bar];
        values = 0;
        double value = 0;
        ReadOnlySpan<char> valueText = default;
        foreach (Range range in allValues.Split(':'))
        {
            ReadOnlySpan<char> text = allValues[range];
            if (!TryParseNumber(text, out double each) || !double.IsFinite(each))
            {
                return ReasonBadValue;
            }

            if (values++ == 0)
            {
                value = each;
                valueText = text;
            }
        }

        bool signed = valueText.Length > 0 && valueText[0] is '+' or '-';
        ReadOnlySpan<char> rest = line[(bar + 1)..];
        int next = rest.IndexOf('|');
        ReadOnlySpan<char> type = next < 0 ? rest : rest[..next];
        double rate = 1;
        ReadOnlySpan<char> tags = default;
        string? merged = null; // a second |# section (statsd_exporter merges them): rare, so a string
        while (next >= 0)
        {
            rest = rest[(next + 1)..];
            next = rest.IndexOf('|');
            ReadOnlySpan<char> part = next < 0 ? rest : rest[..next];
            if (part.StartsWith('@'))
            {
                if (!TryParseNumber(part[1..], out rate) || !(rate > 0 && rate <= 1))
                {
                    return ReasonSyntax;
                }

                if (rate < MinSampleRate)
                {
                    return ReasonBadValue;
                }
            }
            else if (part.StartsWith('#'))
            {
                if (tags.IsEmpty)
                {
                    tags = part[1..];
                }
                else
                {
                    merged = string.Concat(part[1..], ",", tags); // for a name in both, the later section's value counts
                    tags = merged;
                }
            }

            // Anything else is a field this exporter has no use for: |c:CONTAINER_ID, |T<unix time>.
        }

        bool timer = type is "ms" or "h" or "d";
        if (type is "c" && !double.IsFinite(value / rate))
        {
            return ReasonBadValue; // a huge increment scaled up by its rate
        }

        if (values > 1 && !timer)
        {
            return ReasonBadType; // several values are observations: timers, histograms, distributions only
        }

        // A sampled observation stands for round(1 / rate) of them (exact for rates 1/N, as clients
        // send them; statsd_exporter truncates instead). At MinSampleRate that is a million.
        long count = timer && rate < 1 ? (long)Math.Round(1 / rate) : 1;
        double seconds = type is "ms" ? value / 1000.0 : value;
        if (timer && !double.IsFinite(seconds * count))
        {
            return ReasonBadValue; // the observations it stands for would make the sum infinite
        }

        if (!name.StartsWith(prefix, StringComparison.Ordinal) || name.Length <= prefix.Length || name[prefix.Length] != '.')
        {
            return ReasonUnknownMetric;
        }

        ReadOnlySpan<char> metric = name[(prefix.Length + 1)..];
        switch (metric)
        {
            case "query" when timer:
                e.Kind = EventKind.Query;
                e.Duration = seconds;
                e.Count = count;
                QueryTags(tags, pool, ref e);
                return null;
            case "request" when timer:
                e.Kind = EventKind.Request;
                e.Duration = seconds;
                e.Count = count;
                RequestTags(tags, pool, ref e);
                return null;
            case "connection.active" when type is "g":
                e = new IngestEvent { Kind = EventKind.Connection, Database = Tag(tags, "database", pool), Active = value, Relative = signed };
                return null;
            case "connection.pool_size" when type is "g":
                e = new IngestEvent { Kind = EventKind.Connection, Database = Tag(tags, "database", pool), PoolSize = value, Relative = signed };
                return null;
            case "connection.wait" when timer:
                e = new IngestEvent { Kind = EventKind.Connection, Database = Tag(tags, "database", pool), Wait = seconds, Count = count };
                return null;
            case "connection_error" when type is "c":
                e = new IngestEvent { Kind = EventKind.ConnectionError, Database = Tag(tags, "database", pool), Error = Tag(tags, "error", pool), Value = value / rate };
                return null;
            case "feature" when type is "c":
                e = new IngestEvent { Kind = EventKind.Feature, Feature = Tag(tags, "feature", pool), Value = value / rate };
                return null;
            case "users" when type is "g":
                e = new IngestEvent { Kind = EventKind.Users, Role = Tag(tags, "role", pool), Active = value, Relative = signed };
                return null;
            case "query" or "request" or "connection.active" or "connection.pool_size" or "connection.wait"
                or "connection_error" or "feature" or "users":
                return ReasonBadType;
        }

        if (!metric.StartsWith("custom.", StringComparison.Ordinal))
        {
            return ReasonUnknownMetric;
        }

        ReadOnlySpan<char> customName = metric["custom.".Length..];
        if (customTypes is not null)
        {
            switch (customTypes(customName))
            {
                case null:
                    return ReasonUnknownMetric;
                case MetricType.Counter when type is not "c":
                case MetricType.Gauge when type is not "g":
                case MetricType.Histogram when !timer:
                    return ReasonBadType;
            }
        }
        else if (!(timer || type is "c" or "g"))
        {
            return ReasonBadType;
        }

        e = new IngestEvent
        {
            Kind = EventKind.Custom, Name = customName.ToString(), Labels = ParseTags(tags, pool),
            Value = type is "c" ? value / rate : type is "ms" ? seconds : value, Count = count, Relative = type is "g" && signed,
        };
        return null;
    }

    /// <summary>
    /// The line nearly every datagram is made of, a query timed in milliseconds with tags and no
    /// sample rate (<c>PREFIX.query:12.5|ms|#database:app1,...</c>), read front to back: the
    /// general path's four searches for separators, its switch on the metric name and its
    /// number parse were a third of the UDP receiver. Anything else (other metrics, h/d, a
    /// sample rate, an exponent, more sections) returns false and takes the general path, which
    /// gives the same event for these lines.
    /// </summary>
    private static bool TryParseQuery(ReadOnlySpan<char> line, string prefix, StringPool? pool, ref IngestEvent e)
    {
        const string Query = ".query:";
        const string Timer = "|ms|#";
        int at = prefix.Length + Query.Length;
        if (line.Length <= at || !line.StartsWith(prefix, StringComparison.Ordinal) || !line[prefix.Length..].StartsWith(Query, StringComparison.Ordinal))
        {
            return false;
        }

        int length = ScanDecimal(line[at..], out double milliseconds);
        at += length;
        if (length == 0 || !line[at..].StartsWith(Timer, StringComparison.Ordinal))
        {
            return false;
        }

        ReadOnlySpan<char> tags = line[(at + Timer.Length)..];
        if (tags.Contains('|'))
        {
            return false;
        }

        e.Kind = EventKind.Query;
        e.Duration = milliseconds / 1000.0;
        QueryTags(tags, pool, ref e);
        return true;
    }

    private static readonly double[] PowersOfTen = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

    /// <summary>
    /// A statsd value: plain decimals of up to 15 digits (nearly all of them) directly, as their
    /// digits over a power of ten: both are exact doubles and the division rounds once, so the
    /// result is the correctly rounded value double.Parse gives (Clinger's fast path). Anything
    /// else (exponents, more digits, "NaN", junk) goes to double.TryParse. The general parser was a
    /// twelfth of the UDP thread.
    /// </summary>
    internal static bool TryParseNumber(ReadOnlySpan<char> text, out double value)
    {
        int i = 0;
        bool negative = false;
        if (text.Length > 0 && text[0] is '-' or '+')
        {
            negative = text[0] == '-';
            i = 1;
        }

        int taken = ScanDecimal(text[i..], out value);
        if (taken == 0 || taken != text.Length - i)
        {
            return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
        }

        if (negative)
        {
            value = -value;
        }

        return true;
    }

    /// <summary>
    /// The unsigned plain decimal (digits with at most one point, at most 15 digits) at the start of
    /// <paramref name="text"/>, up to the first other character; returns how many characters it
    /// took, 0 when there is no such number (no digit, or more than 15).
    /// </summary>
    private static int ScanDecimal(ReadOnlySpan<char> text, out double value)
    {
        long digits = 0;
        int count = 0;
        int decimals = -1; // digits after the point; -1 until a point is seen
        int i = 0;
        for (; i < text.Length; i++)
        {
            char c = text[i];
            if (char.IsAsciiDigit(c))
            {
                if (++count > 15)
                {
                    value = 0;
                    return 0;
                }

                digits = (digits * 10) + (c - '0');
                if (decimals >= 0)
                {
                    decimals++;
                }
            }
            else if (c == '.' && decimals < 0)
            {
                decimals = 0;
            }
            else
            {
                break;
            }
        }

        value = decimals > 0 ? digits / PowersOfTen[decimals] : digits;
        return count == 0 ? 0 : i;
    }

    private static List<KeyValuePair<string, string>> ParseTags(ReadOnlySpan<char> text, StringPool? pool)
    {
        var tags = new List<KeyValuePair<string, string>>();
        var cursor = new TagCursor(text);
        while (cursor.Next(out ReadOnlySpan<char> name, out ReadOnlySpan<char> value))
        {
            if (!Contains(tags, name)) // the first of a name counts, as for the built-in events' tags
            {
                tags.Add(new(Text(name, pool), Text(value, pool)));
            }
        }

        return tags;

        static bool Contains(List<KeyValuePair<string, string>> tags, ReadOnlySpan<char> name)
        {
            foreach (KeyValuePair<string, string> tag in tags)
            {
                if (name.SequenceEqual(tag.Key))
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>
    /// A query's tags: with a pool, looked up whole (see <see cref="StringPool.FindQueryTags"/>);
    /// otherwise, and the first time, in one pass over them (one search per tag wanted walked the
    /// list five times: a fifth of the UDP thread). As with <see cref="Tag"/>, the first tag of a
    /// name counts.
    /// </summary>
    private static void QueryTags(ReadOnlySpan<char> tags, StringPool? pool, ref IngestEvent e)
    {
        int slot = -1, hash = 0;
        if (pool?.FindQueryTags(tags, out slot, out hash) is { } known)
        {
            (e.Database, e.Type, e.Status, e.Error) = known;
            return;
        }

        QueryTagsOneByOne(tags, pool, ref e);
        if (pool is not null && e.TraceId is null) // a trace id differs per event: such tags are not worth keeping
        {
            pool.AddQueryTags(tags, slot, hash, new QueryTagValues(e.Database, e.Type, e.Status, e.Error));
        }
    }

    private static void QueryTagsOneByOne(ReadOnlySpan<char> tags, StringPool? pool, ref IngestEvent e)
    {
        var cursor = new TagCursor(tags);
        while (cursor.Next(out ReadOnlySpan<char> name, out ReadOnlySpan<char> value))
        {
            switch (name)
            {
                case "database": e.Database ??= Text(value, pool); break;
                case "type": e.Type ??= Text(value, pool); break;
                case "status": e.Status ??= Text(value, pool); break;
                case "error": e.Error ??= Text(value, pool); break;
                case "trace_id": e.TraceId ??= value.ToString(); break; // unique per event: not pooled
            }
        }
    }

    private static void RequestTags(ReadOnlySpan<char> tags, StringPool? pool, ref IngestEvent e)
    {
        bool sawStatus = false;
        var cursor = new TagCursor(tags);
        while (cursor.Next(out ReadOnlySpan<char> name, out ReadOnlySpan<char> value))
        {
            switch (name)
            {
                case "method": e.Method ??= Text(value, pool); break;
                case "endpoint": e.Endpoint ??= Text(value, pool); break;
                case "status" when !sawStatus:
                    sawStatus = true;
                    e.HttpStatus = int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int status) ? status : 0;
                    break;
            }
        }
    }

    private static string Text(ReadOnlySpan<char> value, StringPool? pool) => pool is null ? value.ToString() : pool.Get(value);

    /// <summary>The <c>name:value</c> (or <c>#name:value</c>) tags of a comma-separated list, in order; tags without a name are skipped.</summary>
    private ref struct TagCursor(ReadOnlySpan<char> tags)
    {
        private ReadOnlySpan<char> _rest = tags;

        /// <summary>
        /// One scalar pass per tag finds both its end and its colon: two vectorised searches over
        /// spans this short cost more in setup than they saved (a twelfth of the UDP receiver).
        /// </summary>
        public bool Next(out ReadOnlySpan<char> name, out ReadOnlySpan<char> value)
        {
            ReadOnlySpan<char> rest = _rest;
            while (!rest.IsEmpty)
            {
                int colon = -1;
                int end = 0;
                for (; end < rest.Length; end++)
                {
                    char c = rest[end];
                    if (c == ',')
                    {
                        break;
                    }

                    if (c == ':' && colon < 0)
                    {
                        colon = end;
                    }
                }

                ReadOnlySpan<char> tag = rest[..end];
                rest = end < rest.Length ? rest[(end + 1)..] : default;
                int start = tag.Length > 0 && tag[0] == '#' ? 1 : 0; // "#key:value", as PHP clients write each tag
                if (colon > start)
                {
                    _rest = rest;
                    name = tag[start..colon];
                    value = tag[(colon + 1)..];
                    return true;
                }
            }

            _rest = default;
            name = value = default;
            return false;
        }
    }

    /// <summary>The value of the first tag named <paramref name="name"/>, or null.</summary>
    private static string? Tag(ReadOnlySpan<char> tags, string name, StringPool? pool)
    {
        var cursor = new TagCursor(tags);
        while (cursor.Next(out ReadOnlySpan<char> tagName, out ReadOnlySpan<char> value))
        {
            if (tagName.SequenceEqual(name))
            {
                return Text(value, pool);
            }
        }

        return null;
    }

    /// <summary>
    /// Splits a datagram (statsd clients pack several lines per packet): decodes it into
    /// <paramref name="scratch"/> and lists its non-empty lines as ranges of it (no string per line);
    /// returns how many characters were decoded. A line that is not UTF-8 is left out and counted
    /// in <paramref name="notUtf8"/> (it would otherwise become U+FFFD in a label value).
    /// </summary>
    public static int SplitLines(ReadOnlySpan<byte> packet, Span<char> scratch, List<Range> lines, out int notUtf8)
    {
        ArgumentNullException.ThrowIfNull(lines);
        notUtf8 = 0;
        if (System.Text.Unicode.Utf8.IsValid(packet))
        {
            int count = Encoding.UTF8.GetChars(packet, scratch);
            AddLines(scratch[..count], 0, lines);
            return count;
        }

        // Rare: find the lines at fault, decode the others one by one.
        int written = 0;
        foreach (Range range in packet.Split((byte)'\n'))
        {
            ReadOnlySpan<byte> line = packet[range];
            if (!System.Text.Unicode.Utf8.IsValid(line))
            {
                notUtf8++;
                continue;
            }

            int chars = Encoding.UTF8.GetChars(line, scratch[written..]);
            AddLines(scratch.Slice(written, chars), written, lines);
            written += chars;
        }

        return written;
    }

    /// <summary>As <see cref="SplitLines(ReadOnlySpan{byte}, Span{char}, List{Range}, out int)"/>, without the count of lines that are not UTF-8.</summary>
    public static int SplitLines(ReadOnlySpan<byte> packet, Span<char> scratch, List<Range> lines) => SplitLines(packet, scratch, lines, out _);

    /// <summary>The non-empty lines of <paramref name="text"/>, without carriage returns, as ranges offset by <paramref name="offset"/>.</summary>
    private static void AddLines(ReadOnlySpan<char> text, int offset, List<Range> lines)
    {
        foreach (Range range in text.Split('\n'))
        {
            (int start, int length) = range.GetOffsetAndLength(text.Length);
            while (length > 0 && text[start + length - 1] == '\r')
            {
                length--;
            }

            if (length > 0)
            {
                lines.Add(new Range(offset + start, offset + start + length));
            }
        }
    }
}
