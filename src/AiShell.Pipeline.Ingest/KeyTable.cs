using AiShell.Pipeline.Metrics;

namespace AiShell.Pipeline.Ingest;

/// <summary>
/// Items by the bytes of their key, for one thread: strings by their UTF-16 (<see cref="StringPool"/>)
/// or UTF-8 (<see cref="Utf8StringPool"/>) text, a DogStatsD query line's tag values by its tag
/// text. An open-addressed table, at most half full, hashed with <see cref="ShortHash"/> under a
/// random seed. Holds at most <see cref="Capacity"/> items; past that, <see cref="TryAdd"/>
/// declines, so hostile input cannot grow it. (A Dictionary with an alternate span lookup, hashing
/// the characters one by one, was a twentieth of the UDP receiver.)
/// </summary>
internal sealed class KeyTable<T>
    where T : class
{
    public const int Capacity = 4096;

    private readonly Entry?[] _slots = new Entry?[Capacity * 2];
    private readonly ulong _seed = (ulong)Random.Shared.NextInt64() | 1;

    public int Count { get; private set; }

    /// <summary>The item stored for <paramref name="key"/>, or null and where it would go (valid until the next add).</summary>
    public T? Find(ReadOnlySpan<byte> key, out int slot, out int hash)
    {
        hash = (int)ShortHash.Of(key, _seed);
        int mask = _slots.Length - 1;
        int i = hash & mask;
        while (_slots[i] is { } entry)
        {
            if (entry.Hash == hash && key.SequenceEqual(entry.Key))
            {
                slot = i;
                return entry.Item;
            }

            i = (i + 1) & mask;
        }

        slot = i;
        return null;
    }

    /// <summary>Stores <paramref name="item"/> at a slot <see cref="Find"/> gave for the key; false when full.</summary>
    public bool TryAdd(int slot, int hash, ReadOnlySpan<byte> key, T item)
    {
        if (Count >= Capacity)
        {
            return false;
        }

        _slots[slot] = new Entry(key.ToArray(), item, hash);
        Count++;
        return true;
    }

    /// <summary>Stores <paramref name="item"/> unless the key is present already (a pool's seed values).</summary>
    public void AddIfAbsent(ReadOnlySpan<byte> key, T item)
    {
        if (Find(key, out int slot, out int hash) is null)
        {
            TryAdd(slot, hash, key, item);
        }
    }

    private sealed class Entry(byte[] key, T item, int hash)
    {
        public readonly byte[] Key = key;
        public readonly T Item = item;
        public readonly int Hash = hash;
    }
}
