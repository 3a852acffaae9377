using System.Text;
using System.Text.Json;

namespace AiShell.Pipeline.Ingest.Tests;

public sealed class Utf8StringPoolTests
{
    /// <summary>Reads the JSON string <paramref name="json"/> (quoted) through the pool.</summary>
    private static string Read(Utf8StringPool pool, byte[] json)
    {
        var reader = new Utf8JsonReader(json);
        Assert.True(reader.Read());
        return pool.Get(ref reader);
    }

    private static byte[] Json(string quoted) => Encoding.UTF8.GetBytes(quoted);

    [Fact]
    public void ATokenSeenBefore_IsTheSameInstance_AndCanonicalValuesAreTheSchemasOwn()
    {
        var pool = new Utf8StringPool();
        string first = Read(pool, Json("\"app1\""));
        Assert.Equal("app1", first);
        Assert.Same(first, Read(pool, Json("\"app1\"")));
        Assert.NotSame(first, Read(pool, Json("\"app2\"")));
        Assert.Same(EventSchema.CanonicalValues[0], Read(pool, Json("\"" + EventSchema.CanonicalValues[0] + "\"")));
        Assert.Equal("é✓", Read(pool, Json("\"é✓\"")));
        Assert.Equal("", Read(pool, Json("\"\"")));
        foreach (string shortValue in new[] { "a", "ab", "abc", "abd" })
        {
            Assert.Equal(shortValue, Read(pool, Json("\"" + shortValue + "\"")));
        }
    }

    [Fact]
    public void EscapedAndInvalidTokens_GoThroughTheReader()
    {
        var pool = new Utf8StringPool();
        Assert.Equal("app1", Read(pool, Json("\"app\\u0031\"")));
        Assert.Equal("a\"b", Read(pool, Json("\"a\\\"b\"")));
        byte[] invalid = [(byte)'"', 0x61, 0xC3, 0x28, (byte)'"']; // 0xC3 0x28 is not UTF-8
        Assert.ThrowsAny<Exception>(() => Read(pool, invalid));
        Assert.ThrowsAny<Exception>(() => Read(pool, invalid)); // refused again: never became a key
    }

    [Fact]
    public void PastItsCapacity_ThePoolStopsGrowing_AndStillReturnsEveryValue()
    {
        var pool = new Utf8StringPool();
        for (int i = 0; i < Utf8StringPool.Capacity + 500; i++)
        {
            Assert.Equal("v" + i, Read(pool, Json("\"v" + i + "\"")));
        }

        Assert.Equal(Utf8StringPool.Capacity, pool.Count);
        string longValue = new('x', Utf8StringPool.MaxLength + 1);
        Assert.Equal(longValue, Read(pool, Json("\"" + longValue + "\"")));
        Assert.Equal(Utf8StringPool.Capacity, pool.Count);
    }
}
