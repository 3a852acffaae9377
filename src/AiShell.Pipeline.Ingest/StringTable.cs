using AiShell.Pipeline.Metrics;

namespace AiShell.Pipeline.Ingest;

/// <summary>
/// Strings by the bytes of their key (UTF-16 for <see cref="StringPool"/>, UTF-8 for
/// <see cref="Utf8StringPool"/>), for one thread: an open-addressed table, at most half full, hashed
/// with <see cref="ShortHash"/> under a random seed. Holds at most <see cref="Capacity"/> strings;
/// past that, <see cref="TryAdd"/> declines, so hostile input cannot grow it. (A Dictionary with an
/// alternate span lookup, hashing the characters one by one, was a twentieth of the UDP receiver.)
/// </summary>
internal sealed class StringTable
{
    public const int Capacity = 4096;

    private readonly Entry?[] _slots = new Entry?[Capacity * 2];
    private readonly ulong _seed = (ulong)Random.Shared.NextInt64() | 1;

    public int Count { get; private set; }

    /// <summary>The string stored for <paramref name="key"/>, or null and where it would go (valid until the next add).</summary>
    public string? Find(ReadOnlySpan<byte> key, out int slot, out int hash)
    {
        hash = (int)ShortHash.Of(key, _seed);
        int mask = _slots.Length - 1;
        int i = hash & mask;
        while (_slots[i] is { } entry)
        {
            if (entry.Hash == hash && key.SequenceEqual(entry.Key))
            {
                slot = i;
                return entry.Text;
            }

            i = (i + 1) & mask;
        }

        slot = i;
        return null;
    }

    /// <summary>Stores <paramref name="text"/> at a slot <see cref="Find"/> gave for the key; false when full.</summary>
    public bool TryAdd(int slot, int hash, ReadOnlySpan<byte> key, string text)
    {
        if (Count >= Capacity)
        {
            return false;
        }

        _slots[slot] = new Entry(key.ToArray(), text, hash);
        Count++;
        return true;
    }

    private sealed class Entry(byte[] key, string text, int hash)
    {
        public readonly byte[] Key = key;
        public readonly string Text = text;
        public readonly int Hash = hash;
    }
}
