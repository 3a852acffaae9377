using System.Globalization;
using System.Text;
using AiShell.Pipeline.Metrics.Internal;

namespace AiShell.Pipeline.Metrics;

/// <summary>
/// An OpenMetrics exemplar: one concrete observation (a trace or query id, its value and time)
/// attached to the histogram bucket it fell in. Encoded once, when recorded, as the text that
/// follows the bucket's count: <c> # {trace_id="abc"} 0.067 1764000000.123</c>.
/// </summary>
public sealed class Exemplar
{
    private Exemplar(byte[] encoded) => Encoded = encoded;

    internal byte[] Encoded { get; }

    public static Exemplar Create(string labelName, string labelValue, double value, DateTimeOffset timestamp)
    {
        var sb = new StringBuilder(" # {", 64 + labelValue.Length);
        sb.Append(labelName).Append("=\"");
        TextEscaper.AppendLabelValue(sb, labelValue);
        sb.Append("\"} ");
        sb.Append(value.ToString("R", CultureInfo.InvariantCulture)).Append(' ');
        sb.Append((timestamp.ToUnixTimeMilliseconds() / 1000.0).ToString("0.###", CultureInfo.InvariantCulture));
        return new Exemplar(TextEscaper.Utf8(sb.ToString()));
    }
}
