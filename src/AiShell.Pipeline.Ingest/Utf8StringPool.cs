using System.Text.Json;
using AiShell.Pipeline.Metrics;

namespace AiShell.Pipeline.Ingest;

/// <summary>
/// The NDJSON parser's strings (field names and label values) by their raw UTF-8 bytes, for one
/// thread: a token seen before is returned as the same string without transcoding or allocating
/// (creating strings per field and value was a sixth of the HTTP ingest path, and transcoding them
/// for a UTF-16 pool still an eighth). An open-addressed table, at most half full; past
/// <see cref="Capacity"/> entries, strings are created as usual, so hostile input cannot grow it.
/// Escaped tokens always go through the reader (rare, and their bytes are not their text).
/// </summary>
internal sealed class Utf8StringPool
{
    public const int Capacity = 4096;
    public const int MaxLength = 64; // bytes; longer values are rarely repeated labels

    private readonly Entry?[] _slots = new Entry?[Capacity * 2];
    private readonly ulong _seed = (ulong)Random.Shared.NextInt64() | 1;
    private int _count;

    /// <summary>Starts with the schema's canonical label values: a parsed "SELECT" is the very instance validation keeps.</summary>
    public Utf8StringPool()
    {
        foreach (string value in EventSchema.CanonicalValues)
        {
            byte[] utf8 = System.Text.Encoding.UTF8.GetBytes(value);
            int hash = (int)ShortHash.Of(utf8, _seed);
            int i = hash & (_slots.Length - 1);
            while (_slots[i] is not null)
            {
                i = (i + 1) & (_slots.Length - 1);
            }

            _slots[i] = new Entry(utf8, value, hash);
            _count++;
        }
    }

    public int Count => _count;

    /// <summary>The current token's text (a property name or a string), as <see cref="Utf8JsonReader.GetString"/> gives it.</summary>
    public string Get(ref Utf8JsonReader reader)
    {
        if (reader.ValueIsEscaped || reader.HasValueSequence || reader.ValueSpan.Length > MaxLength)
        {
            return reader.GetString()!;
        }

        ReadOnlySpan<byte> raw = reader.ValueSpan;
        int hash = (int)ShortHash.Of(raw, _seed);
        int mask = _slots.Length - 1;
        int i = hash & mask;
        while (_slots[i] is { } entry)
        {
            if (entry.Hash == hash && raw.SequenceEqual(entry.Utf8))
            {
                return entry.Text;
            }

            i = (i + 1) & mask;
        }

        // New: the reader transcodes, and refuses invalid UTF-8 as it always does (only bytes it
        // accepted become a key).
        string text = reader.GetString()!;
        if (_count < Capacity)
        {
            _slots[i] = new Entry(raw.ToArray(), text, hash);
            _count++;
        }

        return text;
    }

    private sealed class Entry(byte[] utf8, string text, int hash)
    {
        public readonly byte[] Utf8 = utf8;
        public readonly string Text = text;
        public readonly int Hash = hash;
    }
}
