using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AiShell.Pipeline.Metrics.Internal;

/// <summary>
/// A label-set → item map (a family's series, a group's series bundles) that readers search without
/// a lock: an open-addressed table of entries (linear probing, at most half full) published by
/// reference. A writer (holding its owner's lock) fills an empty slot with one release store, or
/// builds a twice-as-large table and publishes it; a reader holding the old table still finds every
/// entry that was in it, and one that misses goes to the locked path, which searches the current
/// table. Nothing is ever removed.
/// <para>
/// The hash is our own (<see cref="ShortHash"/>): per value, its first and last eight bytes (UTF-16)
/// each go through a seeded multiply, in parallel; longer values first run a multiply–xorshift chain over the rest. Three
/// short label values hash in about 6.5 ns, where the locked dictionary's whole lookup took about
/// 30. The seed is random per index, so label values that collide cannot be precomputed; and the
/// family's series limit caps how long any probe sequence can get.
/// </para>
/// </summary>
internal sealed class SeriesIndex<T>
    where T : class
{
    private readonly ulong _seed = (ulong)Random.Shared.NextInt64() | 1;
    private Entry?[] _slots = new Entry?[16];
    private int _count;

    public int Hash(ReadOnlySpan<string> values)
    {
        // Each value is hashed on its own (independent multiply chains the CPU overlaps), then the
        // results are combined with a rotation of what came before, so ("a", "b") differs from
        // ("b", "a"). (A rotation by i * 23 cost a multiply and a variable rotate per value.)
        ulong h = 0;
        ulong seed = _seed; // a local: the field was reloaded (and this null-checked) per value
        foreach (string value in values)
        {
            h = ulong.RotateLeft(h, 23) ^ HashValue(value, seed);
        }

        // Final avalanche (half of murmur3's fmix64), so the low bits that pick a slot depend on the
        // high bits of every value's product.
        h = (h ^ (h >> 33)) * 0xFF51AFD7ED558CCDUL;
        return (int)(h ^ (h >> 33));
    }

    public int Count => _count;

    /// <summary>The item stored for these values, or null. Safe from any thread, no lock.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T? Find(ReadOnlySpan<string> values, int hash)
    {
        Entry?[] slots = Volatile.Read(ref _slots);
        int mask = slots.Length - 1;
        int i = hash & mask;
        while (true)
        {
            Entry? candidate = Volatile.Read(ref slots[i]);
            if (candidate is null)
            {
                return null;
            }

            if (candidate.Hash == hash && SameValues(candidate.Values, values))
            {
                return candidate.Item;
            }

            i = (i + 1) & mask;
        }
    }

    /// <summary>
    /// Adds an item for values known to be absent (<paramref name="values"/> is kept, not copied).
    /// Callers hold their owner's lock.
    /// </summary>
    public void Add(string[] values, int hash, T item)
    {
        var entry = new Entry(values, hash, item);
        Entry?[] slots = _slots;
        if ((_count + 1) * 2 > slots.Length)
        {
            var grown = new Entry?[slots.Length * 2];
            foreach (Entry? existing in slots)
            {
                if (existing is not null)
                {
                    Place(grown, existing);
                }
            }

            Place(grown, entry);
            Volatile.Write(ref _slots, grown);
        }
        else
        {
            Place(slots, entry);
        }

        _count++;
    }

    private static void Place(Entry?[] slots, Entry entry)
    {
        int mask = slots.Length - 1;
        int i = entry.Hash & mask;
        while (slots[i] is not null)
        {
            i = (i + 1) & mask;
        }

        Volatile.Write(ref slots[i], entry); // the entry is fully built before readers can see it
    }

    private sealed class Entry(string[] values, int hash, T item)
    {
        public readonly string[] Values = values;
        public readonly int Hash = hash;
        public readonly T Item = item;
    }

    /// <summary>
    /// References first, inline: callers mostly pass the very instances the index stored
    /// (canonical and pooled label values). Characters are compared out of line from the first
    /// value that differs, so the loop holds no call and keeps its registers (string.Equals per
    /// value, with the probe loop spilled around it, was a quarter of a three-label lookup).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool SameValues(string[] stored, ReadOnlySpan<string> values)
    {
        for (int i = 0; i < stored.Length; i++)
        {
            if (!ReferenceEquals(stored[i], values[i]))
            {
                return SameCharacters(stored, values, i);
            }
        }

        return true;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool SameCharacters(string[] stored, ReadOnlySpan<string> values, int from)
    {
        for (int i = from; i < stored.Length; i++)
        {
            if (!string.Equals(stored[i], values[i]))
            {
                return false;
            }
        }

        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong HashValue(string value, ulong seed) =>
        ShortHash.Of(ref Unsafe.As<char, byte>(ref MemoryMarshal.GetReference(value.AsSpan())), value.Length * sizeof(char), seed);
}
