namespace AiShell.Pipeline.Ingest;

/// <summary>
/// Label values by their characters, for one thread's parse loop: a value seen before is returned as
/// the same string (no allocation, and the series lookup compares it by reference). Holds at most
/// <see cref="Capacity"/> values; past that, values are allocated as usual, so hostile input cannot
/// grow it.
/// </summary>
internal sealed class StringPool
{
    public const int Capacity = 4096;
    public const int MaxLength = 64; // longer values are rarely repeated labels

    private readonly Dictionary<string, string> _strings = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> _bySpan;

    /// <summary>
    /// Starts with the schema's canonical label values, so a parsed "SELECT" is the instance that
    /// validation returns and the series index stores: both then match by reference.
    /// </summary>
    public StringPool()
    {
        _bySpan = _strings.GetAlternateLookup<ReadOnlySpan<char>>();
        foreach (string value in EventSchema.CanonicalValues)
        {
            _strings.Add(value, value);
        }
    }

    public int Count => _strings.Count;

    public string Get(ReadOnlySpan<char> value)
    {
        if (value.Length > MaxLength)
        {
            return value.ToString();
        }

        if (_bySpan.TryGetValue(value, out string? pooled))
        {
            return pooled;
        }

        string created = value.ToString();
        if (_strings.Count < Capacity)
        {
            _strings.Add(created, created);
        }

        return created;
    }
}
