using System.Runtime.CompilerServices;

namespace AiShell.Pipeline.Metrics.Exposition;

/// <summary>
/// What the exposition keeps for one registry: each family's encoded text (<see cref="FamilyText"/>,
/// built the first time a scrape meets the family) and the other libraries' expositions served
/// after its families. The registry knows nothing of either: the text format is the exposition's.
/// A scrape looks this up once (a weak table keyed by the registry), then a family's text is an
/// array read by the family's registration index.
/// </summary>
internal sealed class RegistryText
{
    private static readonly ConditionalWeakTable<MetricRegistry, RegistryText> ByRegistry = new();

    private readonly Lock _gate = new();
    private FamilyText?[] _families = [];
    private IExternalExposition[] _externals = [];

    public static RegistryText Of(MetricRegistry registry) =>
        ByRegistry.TryGetValue(registry, out RegistryText? text) ? text : ByRegistry.GetValue(registry, static _ => new RegistryText());

    /// <summary>Other libraries' metrics served in the same scrape, in the order they were added.</summary>
    public IExternalExposition[] Externals => Volatile.Read(ref _externals);

    public void AddExternal(IExternalExposition external)
    {
        lock (_gate)
        {
            Volatile.Write(ref _externals, [.. _externals, external]);
        }
    }

    public FamilyText this[MetricFamily family]
    {
        get
        {
            FamilyText?[] texts = Volatile.Read(ref _families);
            return (uint)family.Index < (uint)texts.Length && texts[family.Index] is { } text ? text : Add(family);
        }
    }

    private FamilyText Add(MetricFamily family)
    {
        lock (_gate)
        {
            FamilyText?[] texts = _families;
            if ((uint)family.Index < (uint)texts.Length && texts[family.Index] is { } raced)
            {
                return raced;
            }

            // A copy, published whole: readers never see a slot being filled in an array they hold.
            var grown = new FamilyText?[Math.Max(family.Index + 1, texts.Length == 0 ? 64 : texts.Length)];
            texts.CopyTo(grown, 0);
            var text = new FamilyText(family.Name, family.Type, family.Descriptor.Help, family.Buckets);
            grown[family.Index] = text;
            Volatile.Write(ref _families, grown);
            return text;
        }
    }
}
