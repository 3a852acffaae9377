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
        long now = Series.NoTimestamp; // summaries: one clock read per family
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
                WriteSummary(buffer, s, family.Buckets, le, now == Series.NoTimestamp ? now = family.Time.GetTimestamp() : now);
            }
            else
            {
                WriteSample(buffer, s.SamplePrefix, default, s.Value);
            }
        }
    }

    private static void WriteHistogram(ScrapeBuffer buffer, Series s, byte[][] le, bool exemplars)
    {
        long cumulative = 0;
        for (int i = 0; i < le.Length; i++)
        {
            cumulative += s.BucketCount(i);
            ReadOnlySpan<byte> exemplar = exemplars && s.ExemplarFor(i) is { } e ? e.Encoded : default;
            WriteSample(buffer, s.SamplePrefix, le[i], cumulative, exemplar);
        }

        WriteSample(buffer, s.SumPrefix, default, s.Sum);
        WriteSample(buffer, s.CountPrefix, default, cumulative);
    }

    private static void WriteSummary(ScrapeBuffer buffer, Series s, double[] quantiles, byte[][] labels, long now)
    {
        Span<int> buckets = stackalloc int[16];
        buckets = quantiles.Length <= buckets.Length ? buckets[..quantiles.Length] : new int[quantiles.Length];
        s.QuantileBuckets(quantiles, buckets, now);
        for (int i = 0; i < quantiles.Length; i++)
        {
            WriteSample(buffer, s.SamplePrefix, labels[i], buckets[i] < 0 ? "NaN"u8 : Internal.SlidingQuantiles.MiddleText[buckets[i]]);
        }

        WriteSample(buffer, s.SumPrefix, default, s.Sum);
        WriteSample(buffer, s.CountPrefix, default, s.SummaryCount);
    }

    /// <summary>One sample line: the series' prefix, an optional le/quantile label tail, the value, an optional exemplar.</summary>
    private static void WriteSample(ScrapeBuffer buffer, ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> label, double value,
        ReadOnlySpan<byte> exemplar = default)
    {
        Span<byte> span = Open(buffer, prefix, label, exemplar.Length, out int at);
        at += NumberFormatter.Write(span[at..], value);
        Close(buffer, span, at, exemplar);
    }

    private static void WriteSample(ScrapeBuffer buffer, ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> label, long value,
        ReadOnlySpan<byte> exemplar = default)
    {
        Span<byte> span = Open(buffer, prefix, label, exemplar.Length, out int at);
        at += NumberFormatter.Write(span[at..], value);
        Close(buffer, span, at, exemplar);
    }

    /// <summary>A sample line whose value is already text (a summary's quantile, formatted once per bucket).</summary>
    private static void WriteSample(ScrapeBuffer buffer, ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> label, ReadOnlySpan<byte> value)
    {
        Span<byte> span = Open(buffer, prefix, label, 0, out int at);
        value.CopyTo(span[at..]);
        Close(buffer, span, at + value.Length, default);
    }

    private static Span<byte> Open(ScrapeBuffer buffer, ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> label, int exemplarLength, out int at)
    {
        Span<byte> span = buffer.GetSpan(prefix.Length + label.Length + NumberFormatter.MaxLength + exemplarLength + 1);
        prefix.CopyTo(span);
        label.CopyTo(span[prefix.Length..]);
        at = prefix.Length + label.Length;
        return span;
    }

    private static void Close(ScrapeBuffer buffer, Span<byte> span, int at, ReadOnlySpan<byte> exemplar)
    {
        exemplar.CopyTo(span[at..]);
        at += exemplar.Length;
        span[at++] = (byte)'\n';
        buffer.Advance(at);
    }
}
