using System.Text.Json;

namespace AiShell.Pipeline.Ingest;

/// <summary>
/// The NDJSON parser's strings (field names and label values) by their raw UTF-8 bytes, for one
/// thread: a token seen before is returned as the same string without transcoding or allocating
/// (creating strings per field and value was a sixth of the HTTP ingest path, and transcoding them
/// for a UTF-16 pool still an eighth). Past <see cref="Capacity"/> entries (see
/// <see cref="KeyTable{T}"/>), strings are created as usual, so hostile input cannot grow it.
/// Escaped tokens always go through the reader (rare, and their bytes are not their text).
/// </summary>
internal sealed class Utf8StringPool
{
    public const int Capacity = KeyTable<string>.Capacity;
    public const int MaxLength = 64; // bytes; longer values are rarely repeated labels

    private readonly KeyTable<string> _table = new();

    /// <summary>Starts with the schema's canonical label values: a parsed "SELECT" is the very instance validation keeps.</summary>
    public Utf8StringPool()
    {
        foreach (string value in EventSchema.CanonicalValues)
        {
            _table.AddIfAbsent(System.Text.Encoding.UTF8.GetBytes(value), value);
        }
    }

    public int Count => _table.Count;

    /// <summary>The current token's text (a property name or a string), as <see cref="Utf8JsonReader.GetString"/> gives it.</summary>
    public string Get(ref Utf8JsonReader reader)
    {
        if (reader.ValueIsEscaped || reader.HasValueSequence || reader.ValueSpan.Length > MaxLength)
        {
            return reader.GetString()!;
        }

        ReadOnlySpan<byte> raw = reader.ValueSpan;
        if (_table.Find(raw, out int slot, out int hash) is { } pooled)
        {
            return pooled;
        }

        // New: the reader transcodes, and refuses invalid UTF-8 as it always does (only bytes it
        // accepted become a key).
        string text = reader.GetString()!;
        _table.TryAdd(slot, hash, raw, text);
        return text;
    }
}
