using System.Text;
using AiShell.Pipeline.Metrics.Internal;

namespace AiShell.Pipeline.Metrics;

/// <summary>
/// The set of families one exporter serves. Registration (rare) takes a lock and publishes a new
/// family array; the serializer reads the array without locking.
/// </summary>
public sealed class MetricRegistry
{
    private readonly Lock _gate = new();
    private readonly string _constantLabelText;
    private MetricFamily[] _families = [];
    private readonly HashSet<string> _hidden = new(StringComparer.Ordinal);
    private int _nextOrdinal = -1;

    public MetricRegistry(MetricOptions? options = null)
    {
        Options = options ?? new MetricOptions();
        if (!NameRules.IsValidMetricName(Options.Prefix))
        {
            ThrowHelper.Argument($"Metric prefix '{Options.Prefix}' is not a valid metric name.");
        }

        var sb = new StringBuilder();
        foreach ((string name, string value) in Options.ConstantLabels)
        {
            if (!NameRules.IsValidLabelName(name))
            {
                ThrowHelper.Argument($"Constant label name '{name}' is not a valid label name.");
            }

            TextEscaper.AppendLabel(sb, name, value);
        }

        _constantLabelText = sb.ToString();
        foreach ((string database, IReadOnlyList<KeyValuePair<string, string>> extra) in Options.DatabaseLabels)
        {
            foreach ((string name, _) in extra)
            {
                if (!NameRules.IsValidLabelName(name) || name == "database")
                {
                    ThrowHelper.Argument($"Database '{database}': '{name}' is not a usable label name.");
                }

                foreach ((string constant, _) in Options.ConstantLabels)
                {
                    if (constant == name)
                    {
                        ThrowHelper.Argument($"Database '{database}': label '{name}' is already a constant label.");
                    }
                }
            }
        }
    }

    public MetricOptions Options { get; }

    /// <summary>Families in registration order, which is the exposition order.</summary>
    public ReadOnlySpan<MetricFamily> Families => FamilySnapshot;

    /// <summary>The same families as an array a streaming scrape can hold across awaits (copy-on-write: never changes).</summary>
    internal MetricFamily[] FamilySnapshot => Volatile.Read(ref _families);

    /// <summary>Total series across all families.</summary>
    public int SeriesCount
    {
        get
        {
            int total = 0;
            foreach (MetricFamily family in Families)
            {
                total += family.Count;
            }

            return total;
        }
    }

    internal int NextOrdinal() => Interlocked.Increment(ref _nextOrdinal);

    /// <summary>
    /// Leaves a family out of every scrape, or shows it again, keeping its series and values; a
    /// family registered later under that name starts hidden. (A metric group switched off.)
    /// </summary>
    public void SetHidden(MetricDescriptor descriptor, bool hidden)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        string name = Options.Prefix + "_" + descriptor.Name;
        lock (_gate)
        {
            if (hidden)
            {
                _hidden.Add(name);
            }
            else
            {
                _hidden.Remove(name);
            }

            foreach (MetricFamily family in _families)
            {
                if (family.Name == name)
                {
                    family.Hidden = hidden;
                }
            }
        }
    }

    /// <summary>
    /// Registers a family, or returns the one already registered under the same name when its
    /// schema is identical. A different schema under the same name is an error: one HELP/TYPE per name.
    /// </summary>
    public MetricFamily Register(MetricDescriptor descriptor)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        string name = Options.Prefix + "_" + descriptor.Name;
        lock (_gate)
        {
            foreach (MetricFamily existing in _families)
            {
                if (existing.Name == name)
                {
                    return SameSchema(existing.Descriptor, descriptor) ? existing
                        : throw new ArgumentException($"Metric '{name}' is already registered with a different type or labels.");
                }
            }

            Validate(descriptor, name);
            double[] buckets = descriptor.Type switch
            {
                MetricType.Histogram => Options.ResolveBuckets(descriptor),
                MetricType.Summary => descriptor.Buckets ?? [0.5, 0.9, 0.95, 0.99],
                _ => [],
            };
            ValidateBuckets(name, buckets);
            if (descriptor.Type == MetricType.Summary && Array.Exists(buckets, q => q is < 0 or > 1))
            {
                ThrowHelper.Argument($"Metric '{name}': quantiles must be between 0 and 1.");
            }

            if (descriptor.Type == MetricType.Summary && descriptor.SharedWrites)
            {
                ThrowHelper.Argument($"Metric '{name}': a summary has one writer (its sliding window is not thread-safe); it cannot be declared with shared writes.");
            }

            MetricFamily? overflow = descriptor == MetricCatalog.SeriesOverflowTotal || descriptor.LabelNames.Length == 0
                ? null
                : OverflowFamilyLocked();
            var family = new MetricFamily(this, descriptor, name, _constantLabelText, buckets, Options.SeriesLimit, overflow)
            {
                Hidden = _hidden.Contains(name),
                Index = _families.Length,
            };
            MetricFamily[] grown = [.. _families, family];
            Volatile.Write(ref _families, grown);
            return family;
        }
    }

    private MetricFamily? _overflowFamily;

    /// <summary>aishell_pipeline_series_overflow_total, registered with the first labelled family.</summary>
    private MetricFamily OverflowFamilyLocked()
    {
        if (_overflowFamily is null)
        {
            string name = Options.Prefix + "_" + MetricCatalog.SeriesOverflowTotal.Name;
            _overflowFamily = new MetricFamily(this, MetricCatalog.SeriesOverflowTotal, name, _constantLabelText, [], int.MaxValue, null)
            {
                Index = _families.Length,
            };
            MetricFamily[] grown = [.. _families, _overflowFamily];
            Volatile.Write(ref _families, grown);
        }

        return _overflowFamily;
    }

    public MetricFamily? Find(string fullName)
    {
        foreach (MetricFamily family in Families)
        {
            if (family.Name == fullName)
            {
                return family;
            }
        }

        return null;
    }

    private void Validate(MetricDescriptor d, string name)
    {
        if (!NameRules.IsValidMetricName(name))
        {
            ThrowHelper.Argument($"'{name}' is not a valid metric name.");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach ((string constant, _) in Options.ConstantLabels)
        {
            seen.Add(constant);
        }

        foreach (string label in d.LabelNames)
        {
            if (!NameRules.IsValidLabelName(label))
            {
                ThrowHelper.Argument($"Metric '{name}': '{label}' is not a valid label name.");
            }

            if ((d.Type == MetricType.Histogram && label == "le") || (d.Type == MetricType.Summary && label == "quantile"))
            {
                ThrowHelper.Argument($"Metric '{name}': '{label}' is reserved for {(label == "le" ? "histogram buckets" : "summary quantiles")}.");
            }

            if (!seen.Add(label))
            {
                ThrowHelper.Argument($"Metric '{name}': label '{label}' is given twice (or clashes with a constant label).");
            }
        }

        if (Array.IndexOf(d.LabelNames, "database") >= 0)
        {
            foreach ((string database, IReadOnlyList<KeyValuePair<string, string>> extra) in Options.DatabaseLabels)
            {
                foreach ((string label, _) in extra)
                {
                    if (Array.IndexOf(d.LabelNames, label) >= 0)
                    {
                        ThrowHelper.Argument($"Metric '{name}' already has a '{label}' label; database '{database}' cannot add one.");
                    }
                }
            }
        }
    }

    private static void ValidateBuckets(string name, double[] buckets)
    {
        for (int i = 0; i < buckets.Length; i++)
        {
            if (!double.IsFinite(buckets[i]) || (i > 0 && buckets[i] <= buckets[i - 1]))
            {
                ThrowHelper.Argument($"Metric '{name}': buckets must be finite and strictly increasing.");
            }
        }
    }

    private static bool SameSchema(MetricDescriptor a, MetricDescriptor b) =>
        a.Type == b.Type && a.LabelNames.AsSpan().SequenceEqual(b.LabelNames);
}
