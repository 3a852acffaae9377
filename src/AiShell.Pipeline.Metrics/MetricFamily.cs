using System.Globalization;
using System.Text;
using AiShell.Pipeline.Metrics.Internal;

namespace AiShell.Pipeline.Metrics;

/// <summary>
/// A named metric with a fixed label schema. Resolving a label set to its <see cref="Series"/> is a
/// lock-free search of the family's <see cref="SeriesIndex{T}"/>; only the first use of a label set
/// takes the family's lock, to create the series.
/// Everything the serializer writes for the family is encoded to UTF-8 here, once.
/// </summary>
public sealed class MetricFamily
{
    private readonly Lock _gate = new();
    private readonly SeriesIndex<Series> _index = new();
    private readonly PrefixArena _prefixes = new();
    private readonly MetricRegistry _registry;
    private readonly string _constantLabelText;
    private readonly int[]? _kept; // descriptor label indexes kept after drop_labels; null when none dropped
    private readonly int _limit;
    private readonly MetricFamily? _overflowFamily;
    private Series? _overflowCounter;
    private Series? _overflow;
    private Series[] _series = new Series[4];
    private int _count;

    internal MetricFamily(MetricRegistry registry, MetricDescriptor descriptor, string name,
        string constantLabelText, double[] buckets, int limit, MetricFamily? overflowFamily)
    {
        _registry = registry;
        _constantLabelText = constantLabelText;
        _limit = limit;
        _overflowFamily = overflowFamily;
        Descriptor = descriptor;
        Name = name;
        Buckets = buckets;
        PaddedBuckets = new double[(buckets.Length + 3) / 4 * 4];
        Array.Fill(PaddedBuckets, double.PositiveInfinity);
        buckets.CopyTo(PaddedBuckets, 0);
        (LabelNames, _kept) = ApplyDrops(descriptor.LabelNames, registry.Options.DropLabels);

        HeaderText = TextEscaper.Utf8(
            $"# HELP {name} {TextEscaper.EscapeHelp(descriptor.Help, openMetrics: false)}\n# TYPE {name} {TypeWord(descriptor.Type)}\n");

        // OpenMetrics names a counter family without its _total suffix. A counter whose name has no
        // _total (the seed's aishell_network_bytes_received) is typed 'unknown' there, so that the
        // stored series name is the same whichever format the scraper negotiates.
        string omName = name;
        string omType = TypeWord(descriptor.Type);
        if (descriptor.Type == MetricType.Counter)
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
            $"# TYPE {omName} {omType}\n# HELP {omName} {TextEscaper.EscapeHelp(descriptor.Help, openMetrics: true)}\n");

        // Histogram: le values with +Inf last; summary: quantile values.
        bool summary = descriptor.Type == MetricType.Summary;
        BucketLabels = new byte[buckets.Length + (summary ? 0 : 1)][];
        for (int i = 0; i < buckets.Length; i++)
        {
            BucketLabels[i] = TextEscaper.Utf8(FormatBound(buckets[i]) + "\"} ");
        }

        if (!summary)
        {
            BucketLabels[buckets.Length] = "+Inf\"} "u8.ToArray();
        }
    }

    public MetricDescriptor Descriptor { get; }

    /// <summary>Full name, prefix included (<c>aishell_query_total</c>).</summary>
    public string Name { get; }

    public MetricType Type => Descriptor.Type;

    public string[] LabelNames { get; }

    /// <summary>Upper bounds of a histogram's finite buckets (increasing), a summary's quantiles; empty for other types.</summary>
    public double[] Buckets { get; }

    /// <summary><see cref="Buckets"/> padded with +Inf to a multiple of four, for the vectorized bucket search.</summary>
    internal double[] PaddedBuckets { get; }

    internal byte[] HeaderText { get; }

    internal byte[] HeaderOpenMetrics { get; }

    /// <summary>The <c>le</c> value plus <c>"} </c> for each bucket, +Inf last.</summary>
    internal byte[][] BucketLabels { get; }

    /// <summary>Number of series created so far.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>
    /// A consistent view for readers: the count first, then an array at least that long.
    /// </summary>
    internal ReadOnlySpan<Series> SeriesSnapshot()
    {
        (Series[] series, int count) = SeriesView();
        return new ReadOnlySpan<Series>(series, 0, count);
    }

    /// <summary>
    /// The same view as an array and a count, for a reader that stops and resumes (a streaming
    /// scrape): series are only appended, and a grown array is a copy, so the first
    /// <c>count</c> entries of this array never change.
    /// </summary>
    internal (Series[] Series, int Count) SeriesView()
    {
        int count = Volatile.Read(ref _count);
        Series[] series = Volatile.Read(ref _series);
        return (series, count);
    }

    /// <summary>Every series created so far, written or not (a copy; the serializer reads without copying).</summary>
    public Series[] AllSeries() => SeriesSnapshot().ToArray();

    /// <summary>
    /// The series for these label values, in the descriptor's label order (values of labels removed
    /// by drop_labels are ignored), created on first use. Past the series limit, new label sets all
    /// resolve to the family's overflow series.
    /// </summary>
    public Series WithLabels(params ReadOnlySpan<string> labelValues)
    {
        if (labelValues.Length != Descriptor.LabelNames.Length)
        {
            ThrowHelper.LabelCount(Name, Descriptor.LabelNames.Length, labelValues.Length);
        }

        if (_kept is not null)
        {
            return WithKeptLabels(labelValues);
        }

        int hash = _index.Hash(labelValues);
        return _index.Find(labelValues, hash) ?? FindOrAdd(labelValues, hash);
    }

    private Series WithKeptLabels(ReadOnlySpan<string> labelValues)
    {
        LabelValueBuffer buffer = default;
        Span<string> kept = LabelValueBuffer.Project(labelValues, _kept!, buffer);

        int hash = _index.Hash(kept);
        return _index.Find(kept, hash) ?? FindOrAdd(kept, hash);
    }

    private Series FindOrAdd(ReadOnlySpan<string> labelValues, int hash)
    {
        lock (_gate)
        {
            if (_index.Find(labelValues, hash) is { } raced)
            {
                return raced;
            }

            if (_count < _limit || _overflowFamily is null)
            {
                return AddLocked(labelValues.ToArray(), hash);
            }

            (_overflowCounter ??= _overflowFamily.WithLabels(Name)).AddAtomic(1);
            if (_overflow is null)
            {
                string[] overflow = new string[LabelNames.Length];
                Array.Fill(overflow, OverflowValue);
                Volatile.Write(ref _overflow, AddLocked(overflow, _index.Hash(overflow)));
            }

            return _overflow;
        }
    }

    /// <summary>Most series the family creates; past it, new label sets share the overflow series.</summary>
    internal int SeriesLimit => _limit;

    /// <summary>True for the series that label sets past the limit resolve to.</summary>
    internal bool IsOverflow(Series series) => ReferenceEquals(series, Volatile.Read(ref _overflow));

    /// <summary>The value of every label of a family's overflow series.</summary>
    public const string OverflowValue = "__overflow__";

    private static (string[] Names, int[]? Kept) ApplyDrops(string[] labels, IReadOnlyList<string> drops)
    {
        if (drops.Count == 0 || !labels.Any(drops.Contains))
        {
            return (labels, null);
        }

        var names = new List<string>();
        var kept = new List<int>();
        for (int i = 0; i < labels.Length; i++)
        {
            if (!drops.Contains(labels[i]))
            {
                names.Add(labels[i]);
                kept.Add(i);
            }
        }

        return ([.. names], [.. kept]);
    }

    private Series AddLocked(string[] labelValues, int hash)
    {
        var series = CreateSeries(labelValues);
        _index.Add(labelValues, hash, series);
        int count = _count;
        Series[] array = _series;
        if (count == array.Length)
        {
            var grown = new Series[array.Length * 2];
            Array.Copy(array, grown, count);
            grown[count] = series;
            Volatile.Write(ref _series, grown);
        }
        else
        {
            array[count] = series;
        }

        Volatile.Write(ref _count, count + 1);
        return series;
    }

    private Series CreateSeries(string[] labelValues)
    {
        var labels = new StringBuilder(_constantLabelText);
        for (int i = 0; i < labelValues.Length; i++)
        {
            TextEscaper.AppendLabel(labels, LabelNames[i], labelValues[i]);
        }

        AppendDatabaseLabels(labels, labelValues);
        string labelText = labels.ToString();
        string braced = labelText.Length == 0 ? string.Empty : "{" + labelText + "}";
        int ordinal = _registry.NextOrdinal();
        if (Type is not (MetricType.Histogram or MetricType.Summary))
        {
            return new Series(this, ordinal, labelValues, _prefixes.Append($"{Name}{braced} "), default, default);
        }

        string bucketOpen = Type == MetricType.Summary
            ? (labelText.Length == 0 ? $"{Name}{{quantile=\"" : $"{Name}{{{labelText},quantile=\"")
            : (labelText.Length == 0 ? $"{Name}_bucket{{le=\"" : $"{Name}_bucket{{{labelText},le=\"");
        return new Series(this, ordinal, labelValues, _prefixes.Append(bucketOpen),
            _prefixes.Append($"{Name}_sum{braced} "), _prefixes.Append($"{Name}_count{braced} "));
    }

    private void AppendDatabaseLabels(StringBuilder labels, string[] labelValues)
    {
        int index = Array.IndexOf(LabelNames, "database");
        if (index < 0 || !_registry.Options.DatabaseLabels.TryGetValue(labelValues[index], out var extra))
        {
            return;
        }

        foreach ((string name, string value) in extra)
        {
            if (Array.IndexOf(LabelNames, name) < 0) // the family's own label wins; the registry rejects such clashes up front
            {
                TextEscaper.AppendLabel(labels, name, value);
            }
        }
    }

    private static string TypeWord(MetricType type) => type switch
    {
        MetricType.Counter => "counter",
        MetricType.Gauge => "gauge",
        MetricType.Summary => "summary",
        _ => "histogram",
    };

    internal TimeProvider Time => _registry.Options.Time;

    /// <summary>Shortest round-trip form; the same text in both formats so <c>le</c> series match.</summary>
    internal static string FormatBound(double bound) => bound.ToString("R", CultureInfo.InvariantCulture);
}
