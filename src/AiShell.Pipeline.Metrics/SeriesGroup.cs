using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using AiShell.Pipeline.Metrics.Internal;

namespace AiShell.Pipeline.Metrics;

/// <summary>A label tuple a <see cref="SeriesGroup"/> resolved without its cache (see <see cref="SeriesGroup.OnResolve"/>).</summary>
public delegate void TupleResolved(ReadOnlySpan<string> labelValues);

/// <summary>
/// Families that one kind of event always writes together (a query event: the query counter, the
/// duration histogram, the summary), resolved with one lookup instead of one per family. The group's
/// label names are the union of its families'; each family takes the values of its own labels.
/// <para>
/// A label tuple passed recently, as the same string instances, costs a few reference compares
/// (<see cref="_recent"/>); one seen before, one lock-free search. A new one resolves each family (creating
/// series as <see cref="MetricFamily.WithLabels"/> does) and is remembered, unless a family answered
/// with its overflow series: those tuples are resolved afresh every time, so each family still counts
/// its overflow per event and a cardinality bomb cannot grow the group's index.
/// </para>
/// </summary>
public sealed class SeriesGroup
{
    /// <summary>Families per group at most (the size of <see cref="t_scratch"/>).</summary>
    public const int MaxFamilies = 8;

    private const int RecentBits = 10;

    /// <summary>Where a thread resolves a tuple, and gets the series of one that is not remembered (an overflowed family).</summary>
    [ThreadStatic]
    private static Series[]? t_scratch;

    /// <summary>
    /// The tuples last looked up, by the addresses of their string instances: callers pass the same
    /// pooled or canonical instances again and again, and three reference compares cost a fraction
    /// of hashing three values and probing the index (about 210 instructions, a quarter of a query
    /// event's recording). 1,024 slots (8 KiB), one bundle reference each, shared by every thread:
    /// a bundle never changes, so a slot is read without a lock, and it is written only when a
    /// lookup missed and the caller's values are the bundle's own instances (a collision just
    /// misses). A hit writes nothing, so threads that share tuples share the slots' cache lines
    /// read-only. The slots are not per thread: reaching a thread static costs a helper call and
    /// three dependent loads on every event.
    /// </summary>
    private readonly Bundle?[] _recent = new Bundle?[1 << RecentBits];

    private readonly Lock _gate = new();
    private readonly SeriesIndex<Bundle> _index = new();
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
    /// Called whenever a tuple is resolved without the group's cache, before its series are
    /// returned: at least once for every tuple (a race may call it twice), and on every event for a
    /// tuple one of whose families overflowed. Work that depends on the tuple only, not on the
    /// event (noting a database as event-fed), belongs here instead of on every event: repeated
    /// per event, that one check cost 4 % of the pipeline.
    /// </summary>
    public TupleResolved? OnResolve { get; init; }

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

        ref Bundle? slot = ref RecentSlot(labelValues);
        if (slot is { } seen && SameInstances(seen.Values, labelValues))
        {
            return seen.Series;
        }

        return LookUp(labelValues, ref slot);
    }

    /// <summary>
    /// Not a recent tuple: the index (or a new bundle), out of line so the recent path above keeps
    /// a small frame. The bundle is remembered when the caller passed the very instances the index
    /// keeps for it (canonical and pooled values, literals); values that are other instances (new
    /// strings per event) could never hit, so they leave the slot to callers that can.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private ReadOnlySpan<Series> LookUp(scoped ReadOnlySpan<string> labelValues, ref Bundle? slot)
    {
        int hash = _index.Hash(labelValues);
        if (_index.Find(labelValues, hash) is not { } bundle)
        {
            Series[] scratch = t_scratch ??= new Series[MaxFamilies]; // only here: a found tuple needs no thread static
            if (Resolve(labelValues, hash, scratch) is not { } resolved)
            {
                return scratch.AsSpan(0, _families.Length); // not remembered: an overflowed family counts every event
            }

            bundle = resolved;
        }

        if (SameInstances(bundle.Values, labelValues))
        {
            slot = bundle;
        }

        return bundle.Series;
    }

    /// <summary>
    /// The recent slot for these very string instances: their addresses, mixed. Only the slot
    /// depends on them; a hit is decided by comparing the references, so an object the collector
    /// moved just misses once.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref Bundle? RecentSlot(scoped ReadOnlySpan<string> labelValues)
    {
        ulong h = 0;
        foreach (ref readonly string value in labelValues)
        {
            h = (h + Unsafe.As<string, ulong>(ref Unsafe.AsRef(in value))) * 0x9E3779B97F4A7C15UL;
        }

        return ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_recent), (int)(h >> (64 - RecentBits)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool SameInstances(string[] seen, ReadOnlySpan<string> labelValues)
    {
        for (int i = 0; i < seen.Length; i++)
        {
            if (!ReferenceEquals(seen[i], labelValues[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The bundle now in the index, or null when it was not remembered (the series are then in <paramref name="resolved"/>).</summary>
    private Bundle? Resolve(scoped ReadOnlySpan<string> labelValues, int hash, Series[] resolved)
    {
        OnResolve?.Invoke(labelValues);
        bool overflowed = false;
        LabelValueBuffer buffer = default;
        for (int f = 0; f < _families.Length; f++)
        {
            resolved[f] = _families[f].WithLabels(LabelValueBuffer.Project(labelValues, _projections[f], buffer));
            overflowed |= _families[f].IsOverflow(resolved[f]);
        }

        if (overflowed)
        {
            return null;
        }

        lock (_gate)
        {
            if (_index.Find(labelValues, hash) is { } raced)
            {
                return raced;
            }

            if (_index.Count >= _limit)
            {
                return null;
            }

            var bundle = new Bundle(labelValues.ToArray(), resolved[.._families.Length]);
            _index.Add(bundle.Values, hash, bundle);
            return bundle;
        }
    }

    /// <summary>A remembered tuple: the label values the index keys it by, and its series.</summary>
    private sealed class Bundle(string[] values, Series[] series)
    {
        public readonly string[] Values = values;
        public readonly Series[] Series = series;
    }
}
