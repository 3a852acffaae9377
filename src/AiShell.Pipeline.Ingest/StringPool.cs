using System.Runtime.InteropServices;

namespace AiShell.Pipeline.Ingest;

/// <summary>
/// Label values by their characters, for one thread's parse loop (UDP): a value seen before is
/// returned as the same string (no allocation, and the series lookup compares it by reference).
/// Holds at most <see cref="Capacity"/> values (see <see cref="KeyTable{T}"/>); longer values than
/// <see cref="MaxLength"/> are allocated as usual.
/// </summary>
internal sealed class StringPool
{
    public const int Capacity = KeyTable<string>.Capacity;
    public const int MaxLength = 64; // longer values are rarely repeated labels

    private readonly KeyTable<string> _table = new();

    /// <summary>
    /// Starts with the schema's canonical label values, so a parsed "SELECT" is the instance that
    /// validation returns and the series index stores: both then match by reference.
    /// </summary>
    public StringPool()
    {
        foreach (string value in EventSchema.CanonicalValues)
        {
            _table.AddIfAbsent(MemoryMarshal.AsBytes(value.AsSpan()), value);
        }
    }

    public int Count => _table.Count;

    public string Get(ReadOnlySpan<char> value)
    {
        if (value.Length > MaxLength)
        {
            return value.ToString();
        }

        ReadOnlySpan<byte> key = MemoryMarshal.AsBytes(value);
        if (_table.Find(key, out int slot, out int hash) is { } pooled)
        {
            return pooled;
        }

        string created = value.ToString();
        _table.TryAdd(slot, hash, key, created);
        return created;
    }

    /// <summary>Longest tag text whose query values are remembered (in characters).</summary>
    public const int MaxTagsLength = 256;

    private readonly KeyTable<QueryTagValues> _queryTags = new();

    /// <summary>
    /// A query line's tag values by its whole tag text: lines of one label set repeat it exactly, so
    /// one lookup replaces walking the tags and pooling each value (the receiver's largest cost).
    /// </summary>
    public QueryTagValues? FindQueryTags(ReadOnlySpan<char> tags, out int slot, out int hash)
    {
        if (tags.Length > MaxTagsLength)
        {
            slot = hash = -1;
            return null;
        }

        return _queryTags.Find(MemoryMarshal.AsBytes(tags), out slot, out hash);
    }

    /// <summary>Remembers what <see cref="FindQueryTags"/> did not find (not for tags that vary per event, such as a trace id).</summary>
    public void AddQueryTags(ReadOnlySpan<char> tags, int slot, int hash, QueryTagValues values)
    {
        if (slot >= 0)
        {
            _queryTags.TryAdd(slot, hash, MemoryMarshal.AsBytes(tags), values);
        }
    }
}

/// <summary>The label values of a DogStatsD query line's tags, each a pooled string (or null when absent).</summary>
internal sealed record QueryTagValues(string? Database, string? Type, string? Status, string? Error);
