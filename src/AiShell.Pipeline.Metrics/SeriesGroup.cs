using AiShell.Pipeline.Metrics.Internal;

namespace AiShell.Pipeline.Metrics;

/// <summary>
/// Families that one kind of event always writes together (a query event: the query counter, the
/// duration histogram, the summary), resolved with one lookup instead of one per family. The group's
/// label names are the union of its families'; each family takes the values of its own labels.
/// <para>
/// A label tuple seen before costs one lock-free search. A new one resolves each family (creating
/// series as <see cref="MetricFamily.WithLabels"/> does) and is remembered, unless a family answered
/// with its overflow series: those tuples are resolved afresh every time, so each family still counts
/// its overflow per event and a cardinality bomb cannot grow the group's index.
/// </para>
/// </summary>
public sealed class SeriesGroup
{
    /// <summary>Families per group at most (the size of the per-thread scratch for uncached tuples).</summary>
    public const int MaxFamilies = 8;

    [ThreadStatic]
    private static Series[]? t_scratch;

    private readonly Lock _gate = new();
    private readonly SeriesIndex<Series[]> _index = new();
    private readonly MetricFamily[] _families;
    private readonly int[][] _projections; // per family: index into the group's values of each of its labels
    private readonly int _limit;

    public SeriesGroup(string[] labelNames, params MetricFamily[] families)
    {
        ArgumentNullException.ThrowIfNull(labelNames);
        ArgumentNullException.ThrowIfNull(families);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(families.Length, MaxFamilies);
        LabelNames = labelNames;
        _families = families;
        _projections = new int[families.Length][];
        foreach ((int f, MetricFamily family) in families.Index())
        {
            string[] own = family.Descriptor.LabelNames;
            _projections[f] = new int[own.Length];
            for (int j = 0; j < own.Length; j++)
            {
                int index = Array.IndexOf(labelNames, own[j]);
                if (index < 0)
                {
                    ThrowHelper.Argument($"Family '{family.Name}' has label '{own[j]}', which the group ({string.Join(", ", labelNames)}) does not.");
                }

                _projections[f][j] = index;
            }
        }

        _limit = families.Length == 0 ? 0 : families.Max(static f => f.SeriesLimit);
    }

    public string[] LabelNames { get; }

    /// <summary>
    /// The series of every family for these values (in the group's label order), in the order the
    /// families were given. Safe from any thread. The span is valid until the next call on this thread.
    /// </summary>
    public ReadOnlySpan<Series> WithLabels(params ReadOnlySpan<string> labelValues)
    {
        if (labelValues.Length != LabelNames.Length)
        {
            ThrowHelper.LabelCount(string.Join("+", _families.Select(static f => f.Name)), LabelNames.Length, labelValues.Length);
        }

        int hash = _index.Hash(labelValues);
        return _index.Find(labelValues, hash) ?? Resolve(labelValues, hash);
    }

    private ReadOnlySpan<Series> Resolve(scoped ReadOnlySpan<string> labelValues, int hash)
    {
        Series[] resolved = t_scratch ??= new Series[MaxFamilies];
        bool overflowed = false;
        LabelValueBuffer buffer = default;
        for (int f = 0; f < _families.Length; f++)
        {
            resolved[f] = _families[f].WithLabels(LabelValueBuffer.Project(labelValues, _projections[f], buffer));
            overflowed |= _families[f].IsOverflow(resolved[f]);
        }

        if (overflowed)
        {
            return resolved.AsSpan(0, _families.Length);
        }

        lock (_gate)
        {
            if (_index.Find(labelValues, hash) is { } raced)
            {
                return raced;
            }

            if (_index.Count >= _limit)
            {
                return resolved.AsSpan(0, _families.Length);
            }

            Series[] bundle = resolved[.._families.Length];
            _index.Add(labelValues.ToArray(), hash, bundle);
            return bundle;
        }
    }
}
