using System.Runtime.InteropServices;

namespace AiShell.Pipeline.Ingest;

/// <summary>
/// Label values by their characters, for one thread's parse loop (UDP): a value seen before is
/// returned as the same string (no allocation, and the series lookup compares it by reference).
/// Holds at most <see cref="Capacity"/> values (see <see cref="StringTable"/>); longer values than
/// <see cref="MaxLength"/> are allocated as usual.
/// </summary>
internal sealed class StringPool
{
    public const int Capacity = StringTable.Capacity;
    public const int MaxLength = 64; // longer values are rarely repeated labels

    private readonly StringTable _table = new();

    /// <summary>
    /// Starts with the schema's canonical label values, so a parsed "SELECT" is the instance that
    /// validation returns and the series index stores: both then match by reference.
    /// </summary>
    public StringPool()
    {
        foreach (string value in EventSchema.CanonicalValues)
        {
            Get(value);
        }
    }

    public int Count => _table.Count;

    public string Get(ReadOnlySpan<char> value) => Get(value, null);

    private string Get(ReadOnlySpan<char> value, string? instance)
    {
        if (value.Length > MaxLength)
        {
            return instance ?? value.ToString();
        }

        ReadOnlySpan<byte> key = MemoryMarshal.AsBytes(value);
        if (_table.Find(key, out int slot, out int hash) is { } pooled)
        {
            return pooled;
        }

        string created = instance ?? value.ToString();
        _table.TryAdd(slot, hash, key, created);
        return created;
    }

    private void Get(string canonical) => Get(canonical, canonical);
}
