using System.Text;
using AiShell.Pipeline.Metrics.Internal;

namespace AiShell.Pipeline.Metrics.Exposition;

/// <summary>
/// Everything a family's sample lines share, encoded to UTF-8 once (<see cref="RegistryText"/>). A line is
/// <c>name</c> + the series' label text (<c>{a="1",b="2"</c>, or nothing) + a tail that closes the
/// braces (<c>} </c>, or <c>,le="0.5"} </c> for a bucket) + the value. Each series keeps only its
/// label text: three full prefixes per histogram series (bucket, sum, count) were three times the
/// bytes a scrape had to pull from memory. Every piece has <see cref="LineWriter.Slack"/> readable
/// bytes after it, for <see cref="LineWriter.Copy(ref byte, byte[], int, int)"/>.
/// </summary>
internal sealed class FamilyText
{
    private const int Labelled = 0;
    private const int Bare = 1;

    public FamilyText(string name, MetricType type, string help, double[] buckets)
    {
        HeaderText = TextEscaper.Utf8(
            $"# HELP {name} {TextEscaper.EscapeHelp(help, openMetrics: false)}\n# TYPE {name} {TypeWord(type)}\n");

        // OpenMetrics names a counter family without its _total suffix. A counter whose name has no
        // _total (the integration guide's aishell_network_bytes_received) is typed 'unknown' there, so that the
        // stored series name is the same whichever format the scraper negotiates.
        string omName = name;
        string omType = TypeWord(type);
        if (type == MetricType.Counter)
        {
            if (name.EndsWith("_total", StringComparison.Ordinal))
            {
                omName = name[..^"_total".Length];
            }
            else
            {
                omType = "unknown";
            }
        }

        HeaderOpenMetrics = TextEscaper.Utf8(
            $"# TYPE {omName} {omType}\n# HELP {omName} {TextEscaper.EscapeHelp(help, openMetrics: true)}\n");

        SampleName = Padded(type == MetricType.Histogram ? name + "_bucket" : name);
        SumName = Padded(name + "_sum");
        CountName = Padded(name + "_count");
        Closes = [Padded("} "), Padded(" ")];

        // Histogram: le values with +Inf last; summary: quantile values.
        bool summary = type == MetricType.Summary;
        string label = summary ? "quantile" : "le";
        var values = new List<string>();
        foreach (double bound in buckets)
        {
            values.Add(FormatBound(bound));
        }

        if (type == MetricType.Histogram)
        {
            values.Add("+Inf");
        }

        TailCount = values.Count;
        int longest = 0;
        foreach (string value in values)
        {
            longest = Math.Max(longest, Encoding.UTF8.GetByteCount($",{label}=\"{value}\"}} "));
        }

        TailStride = longest;
        Tails = new byte[(2 * values.Count * TailStride) + LineWriter.Slack];
        TailLengths = new int[2 * values.Count];
        for (int i = 0; i < values.Count; i++)
        {
            AddTail(i, Labelled, $",{label}=\"{values[i]}\"}} ");
            AddTail(i, Bare, $"{{{label}=\"{values[i]}\"}} ");
        }
    }

    internal byte[] HeaderText { get; }

    internal byte[] HeaderOpenMetrics { get; }

    /// <summary>The # HELP / # TYPE lines in the format written.</summary>
    internal byte[] Header(bool openMetrics) => openMetrics ? HeaderOpenMetrics : HeaderText;

    /// <summary>A counter's, gauge's or summary quantile's name; a histogram's <c>name_bucket</c>.</summary>
    public Piece SampleName { get; }

    public Piece SumName { get; }

    public Piece CountName { get; }

    /// <summary><c>} </c> after a label text, a space when there is none.</summary>
    private Piece[] Closes { get; }

    /// <summary>Buckets (+Inf included) or quantiles.</summary>
    public int TailCount { get; }

    /// <summary>The longest tail: a line needs at most name + labels + this + a value + a newline.</summary>
    public int TailStride { get; }

    public Piece Close(int labelLength) => Closes[labelLength == 0 ? Bare : Labelled];

    /// <summary>Index of tail 0 in <see cref="Tails"/> and <see cref="TailLengths"/> for a label text of <paramref name="labelLength"/> bytes; tail <c>i</c> is at index + <c>i</c>, its bytes at (index + <c>i</c>) × <see cref="TailStride"/>.</summary>
    public int TailBase(int labelLength) => (labelLength == 0 ? Bare : Labelled) * TailCount;

    /// <summary>Per bucket or quantile, both variants (labelled, bare), <see cref="TailStride"/> bytes apart.</summary>
    public byte[] Tails { get; }

    public int[] TailLengths { get; }

    /// <summary>Shortest round-trip form; the same text in both formats so <c>le</c> series match.</summary>
    internal static string FormatBound(double bound) => bound.ToString("R", System.Globalization.CultureInfo.InvariantCulture);

    private void AddTail(int index, int variant, string text)
    {
        int slot = (variant * TailCount) + index;
        TailLengths[slot] = Encoding.UTF8.GetBytes(text, Tails.AsSpan(slot * TailStride));
    }

    private static Piece Padded(string text)
    {
        int length = Encoding.UTF8.GetByteCount(text);
        var bytes = new byte[length + LineWriter.Slack];
        Encoding.UTF8.GetBytes(text, bytes);
        return new Piece(bytes, length);
    }

    private static string TypeWord(MetricType type) => type switch
    {
        MetricType.Counter => "counter",
        MetricType.Gauge => "gauge",
        MetricType.Summary => "summary",
        _ => "histogram",
    };

    /// <summary>A piece of text followed by <see cref="LineWriter.Slack"/> readable bytes.</summary>
    internal readonly record struct Piece(byte[] Bytes, int Length);
}
