using System.Text;
using AiShell.Pipeline.Metrics.Internal;

namespace AiShell.Pipeline.Metrics;

/// <summary>
/// A named metric with a fixed label schema. Resolving a label set to its <see cref="Series"/> is a
/// lock-free search of the family's <see cref="SeriesIndex{T}"/>; only the first use of a label set
/// takes the family's lock, to create the series.
/// Each series' label text is encoded to UTF-8 here, once; the family's own text (name, HELP,
/// TYPE, bucket bounds) is the exposition's (<c>Exposition.RegistryText</c>).
/// </summary>
public sealed class MetricFamily
{
    private readonly Lock _gate = new();
    private readonly SeriesIndex<Series> _index = new();
    private readonly LabelArena _labels = new();
    private readonly MetricRegistry _registry;
    private readonly string _constantLabelText;
    private readonly int[]? _kept; // descriptor label indexes kept after drop_labels; null when none dropped
    private readonly int _limit;
    private readonly MetricFamily? _overflowFamily;
    private readonly int _stride; // cells per series (SeriesChunk)
    private Series? _overflowCounter;
    private Series? _overflow;
    private SeriesChunk[] _chunks = [];
    private int _count;
    private bool _hidden;

    /// <summary>Left out of every scrape (its metric group is switched off); series and values are kept.</summary>
    public bool Hidden
    {
        get => Volatile.Read(ref _hidden);
        internal set => Volatile.Write(ref _hidden, value);
    }

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
        (LabelNames, _kept) = ApplyDrops(descriptor.LabelNames, registry.Options.DropLabels);

        _stride = SeriesChunk.FirstCountCell + descriptor.Type switch
        {
            MetricType.Histogram => buckets.Length + 1,
            MetricType.Summary => 1,
            _ => 0,
        };
    }

    public MetricDescriptor Descriptor { get; }

    /// <summary>Full name, prefix included (<c>aishell_query_total</c>).</summary>
    public string Name { get; }

    public MetricType Type => Descriptor.Type;

    public string[] LabelNames { get; }

    /// <summary>Upper bounds of a histogram's finite buckets (increasing), a summary's quantiles; empty for other types.</summary>
    public double[] Buckets { get; }

    /// <summary>Position in the registry's families, in registration order.</summary>
    internal int Index { get; init; }

    internal MetricRegistry Registry => _registry;

    /// <summary>Number of series created so far.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>
    /// A consistent view for readers: the count first, then the chunks, which hold at least that
    /// many series. Series are only appended, chunks never move, and a grown chunk list is a copy,
    /// so a reader may stop and resume (a streaming scrape) on the view it took.
    /// </summary>
    internal (SeriesChunk[] Chunks, int Count) SeriesView()
    {
        int count = Volatile.Read(ref _count);
        SeriesChunk[] chunks = Volatile.Read(ref _chunks);
        return (chunks, count);
    }

    /// <summary>Every series created so far, written or not (a copy; the serializer reads the columns instead).</summary>
    public Series[] AllSeries()
    {
        (SeriesChunk[] chunks, int count) = SeriesView();
        var all = new Series[count];
        foreach (SeriesChunk chunk in chunks)
        {
            int n = chunk.SlotsIn(count);
            if (n <= 0)
            {
                break;
            }

            Array.Copy(chunk.Series, 0, all, chunk.Start, n);
        }

        return all;
    }

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

            (_overflowCounter ??= _overflowFamily.WithLabels(Name)).Add(1);
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
        int count = _count;
        SeriesChunk[] chunks = _chunks;
        SeriesChunk? last = chunks.Length == 0 ? null : chunks[^1];
        if (last is null || count == last.Start + last.Capacity)
        {
            last = new SeriesChunk(count, SeriesChunk.NextCapacity(last?.Capacity ?? 0), _stride,
                sumTexts: Type is MetricType.Histogram or MetricType.Summary);
            Volatile.Write(ref _chunks, [.. chunks, last]); // published before the count that reaches into it
        }

        int slot = count - last.Start;
        last.Labels[slot] = _labels.Append(LabelText(labelValues));
        var series = new Series(this, _registry.NextOrdinal(), labelValues, last, slot);
        last.Series[slot] = series;
        _index.Add(labelValues, hash, series);
        Volatile.Write(ref _count, count + 1);
        return series;
    }

    /// <summary>The series' label text as its lines carry it: <c>{name="value",...</c> (constant, own and database labels), empty without labels.</summary>
    private string LabelText(string[] labelValues)
    {
        var labels = new StringBuilder(_constantLabelText);
        for (int i = 0; i < labelValues.Length; i++)
        {
            TextEscaper.AppendLabel(labels, LabelNames[i], labelValues[i]);
        }

        AppendDatabaseLabels(labels, labelValues);
        return labels.Length == 0 ? string.Empty : labels.Insert(0, '{').ToString();
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

    internal TimeProvider Time => _registry.Options.Time;
}
