namespace AiShell.Pipeline.Metrics.Exposition;

/// <summary>
/// Serializes a registry into a <see cref="ScrapeBuffer"/>. Every name, label set and <c>le</c> value
/// was encoded at registration, so a line is a copy of a prefix, a number and a newline; nothing here
/// allocates once the buffer is large enough.
/// </summary>
public static class ExpositionWriter
{
    public static void Write(ScrapeBuffer buffer, MetricRegistry registry, ExpositionFormat format)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        ArgumentNullException.ThrowIfNull(registry);
        foreach (MetricFamily family in registry.Families)
        {
            WriteFamily(buffer, family, format);
        }

        foreach (IExternalExposition external in registry.Externals)
        {
            external.WriteTo(buffer, format, registry);
        }

        if (format == ExpositionFormat.OpenMetrics)
        {
            buffer.Write("# EOF\n"u8);
        }
    }

    public static void WriteFamily(ScrapeBuffer buffer, MetricFamily family, ExpositionFormat format)
    {
        ReadOnlySpan<Series> series = family.SeriesSnapshot();
        bool headerWritten = false;
        byte[][] le = family.BucketLabels;
        bool histogram = family.Type == MetricType.Histogram;
        foreach (Series s in series)
        {
            if (!s.HasValue)
            {
                continue;
            }

            if (!headerWritten)
            {
                buffer.Write(format == ExpositionFormat.OpenMetrics ? family.HeaderOpenMetrics : family.HeaderText);
                headerWritten = true;
            }

            if (histogram)
            {
                WriteHistogram(buffer, s, le, format == ExpositionFormat.OpenMetrics);
            }
            else if (family.Type == MetricType.Summary)
            {
                WriteSummary(buffer, s, family.Buckets, le);
            }
            else
            {
                WriteLine(buffer, s.SamplePrefix, s.Value);
            }
        }
    }

    private static void WriteHistogram(ScrapeBuffer buffer, Series s, byte[][] le, bool exemplars)
    {
        long cumulative = 0;
        for (int i = 0; i < le.Length; i++)
        {
            cumulative += s.BucketCount(i);
            byte[] prefix = s.SamplePrefix;
            byte[] bound = le[i];
            Span<byte> span = buffer.GetSpan(prefix.Length + bound.Length + NumberFormatter.MaxLength + 1);
            prefix.CopyTo(span);
            int at = prefix.Length;
            bound.CopyTo(span[at..]);
            at += bound.Length;
            at += NumberFormatter.Write(span[at..], cumulative);
            buffer.Advance(at);
            if (exemplars && s.ExemplarFor(i) is { } exemplar)
            {
                buffer.Write(exemplar.Encoded);
            }

            buffer.Write("\n"u8);
        }

        WriteLine(buffer, s.SumPrefix!, s.Sum);
        WriteLine(buffer, s.CountPrefix!, cumulative);
    }

    private static void WriteSummary(ScrapeBuffer buffer, Series s, double[] quantiles, byte[][] labels)
    {
        for (int i = 0; i < quantiles.Length; i++)
        {
            byte[] prefix = s.SamplePrefix;
            byte[] quantile = labels[i];
            Span<byte> span = buffer.GetSpan(prefix.Length + quantile.Length + NumberFormatter.MaxLength + 1);
            prefix.CopyTo(span);
            quantile.CopyTo(span[prefix.Length..]);
            int at = prefix.Length + quantile.Length;
            at += NumberFormatter.Write(span[at..], s.Quantile(quantiles[i]));
            span[at++] = (byte)'\n';
            buffer.Advance(at);
        }

        WriteLine(buffer, s.SumPrefix!, s.Sum);
        WriteLine(buffer, s.CountPrefix!, s.SummaryCount);
    }

    private static void WriteLine(ScrapeBuffer buffer, byte[] prefix, double value)
    {
        Span<byte> span = buffer.GetSpan(prefix.Length + NumberFormatter.MaxLength + 1);
        prefix.CopyTo(span);
        int at = prefix.Length;
        at += NumberFormatter.Write(span[at..], value);
        span[at++] = (byte)'\n';
        buffer.Advance(at);
    }

    private static void WriteLine(ScrapeBuffer buffer, byte[] prefix, long value)
    {
        Span<byte> span = buffer.GetSpan(prefix.Length + NumberFormatter.MaxLength + 1);
        prefix.CopyTo(span);
        int at = prefix.Length;
        at += NumberFormatter.Write(span[at..], value);
        span[at++] = (byte)'\n';
        buffer.Advance(at);
    }
}
