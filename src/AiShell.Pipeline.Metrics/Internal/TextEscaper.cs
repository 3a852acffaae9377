using System.Text;

namespace AiShell.Pipeline.Metrics.Internal;

/// <summary>
/// Escaping for the text formats. Used at registration only (label sets and HELP are encoded once),
/// so it may allocate.
/// </summary>
internal static class TextEscaper
{
    /// <summary>Label values, both formats: backslash, double quote and line feed.</summary>
    public static void AppendLabelValue(StringBuilder sb, string value)
    {
        foreach (char c in value)
        {
            switch (c)
            {
                case '\\': sb.Append(@"\\"); break;
                case '"': sb.Append("\\\""); break;
                case '\n': sb.Append(@"\n"); break;
                default: sb.Append(c); break;
            }
        }
    }

    /// <summary>
    /// Appends <c>name="value"</c> (escaped), after a comma when the text is not empty. An empty
    /// value is the same as no label in Prometheus, so it is left out.
    /// </summary>
    public static void AppendLabel(StringBuilder sb, string name, string value)
    {
        if (value.Length == 0)
        {
            return;
        }

        if (sb.Length > 0)
        {
            sb.Append(',');
        }

        sb.Append(name).Append("=\"");
        AppendLabelValue(sb, value);
        sb.Append('"');
    }

    /// <summary>
    /// HELP text. 0.0.4 escapes backslash and line feed; OpenMetrics also escapes the double quote.
    /// </summary>
    public static string EscapeHelp(string help, bool openMetrics)
    {
        var sb = new StringBuilder(help.Length + 8);
        foreach (char c in help)
        {
            switch (c)
            {
                case '\\': sb.Append(@"\\"); break;
                case '\n': sb.Append(@"\n"); break;
                case '"' when openMetrics: sb.Append("\\\""); break;
                default: sb.Append(c); break;
            }
        }

        return sb.ToString();
    }

    /// <summary>
    /// UTF-8 with lone surrogates replaced by U+FFFD, so every byte we emit is valid UTF-8.
    /// </summary>
    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);
}
