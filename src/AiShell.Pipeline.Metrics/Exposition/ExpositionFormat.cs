namespace AiShell.Pipeline.Metrics.Exposition;

public enum ExpositionFormat : byte
{
    /// <summary>Prometheus text format 0.0.4.</summary>
    Text,

    /// <summary>OpenMetrics 1.0.0 text.</summary>
    OpenMetrics,
}

public static class ExpositionFormats
{
    public const string TextContentType = "text/plain; version=0.0.4; charset=utf-8";
    public const string OpenMetricsContentType = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    public static string ContentType(ExpositionFormat format) =>
        format == ExpositionFormat.OpenMetrics ? OpenMetricsContentType : TextContentType;

    /// <summary>
    /// OpenMetrics when the Accept header lists <c>application/openmetrics-text</c> with a non-zero
    /// q-value (Prometheus sends it first when it prefers it); otherwise 0.0.4.
    /// </summary>
    public static ExpositionFormat Negotiate(ReadOnlySpan<char> accept)
    {
        foreach (Range range in accept.Split(','))
        {
            ReadOnlySpan<char> item = accept[range].Trim();
            if (!item.StartsWith("application/openmetrics-text", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            int q = item.IndexOf("q=", StringComparison.OrdinalIgnoreCase);
            if (q < 0)
            {
                return ExpositionFormat.OpenMetrics;
            }

            ReadOnlySpan<char> qValue = item[(q + 2)..];
            int end = qValue.IndexOf(';');
            if (end >= 0)
            {
                qValue = qValue[..end];
            }

            if (!double.TryParse(qValue, System.Globalization.NumberStyles.Float,
                    System.Globalization.CultureInfo.InvariantCulture, out double weight) || weight > 0)
            {
                return ExpositionFormat.OpenMetrics;
            }
        }

        return ExpositionFormat.Text;
    }
}
