namespace AiShell.Pipeline.Ingest.Tests;

public sealed class DogStatsdParserTests
{
    [Fact]
    public void QueryTimer_InMilliseconds_BecomesSeconds_WithTags()
    {
        Assert.Null(DogStatsdParser.TryParse("aishell.query:12.5|ms|#database:app1,type:SELECT,status:success", "aishell", out IngestEvent e));
        Assert.Equal(EventKind.Query, e.Kind);
        Assert.Equal(0.0125, e.Duration, 12);
        Assert.Equal(("app1", "SELECT", "success"), (e.Database, e.Type, e.Status));
    }

    [Fact]
    public void WithAPool_RepeatedTagValuesAreTheSameString_AndThePoolStaysBounded()
    {
        var pool = new StringPool();
        Assert.Null(DogStatsdParser.TryParse("aishell.query:1|ms|#database:app1,type:SELECT,status:success", "aishell", pool, out IngestEvent first));
        Assert.Null(DogStatsdParser.TryParse("aishell.query:2|ms|#status:success,database:app1", "aishell", pool, out IngestEvent second));
        Assert.Same(first.Database, second.Database);
        Assert.Same(first.Status, second.Status);
        Assert.Null(second.Type);

        for (int i = 0; i < StringPool.Capacity + 100; i++)
        {
            Assert.Equal("db" + i, pool.Get("db" + i));
        }

        Assert.Equal(StringPool.Capacity, pool.Count);
        string longValue = new('x', StringPool.MaxLength + 1);
        Assert.Equal(longValue, pool.Get(longValue));
        Assert.Equal(StringPool.Capacity, pool.Count);
    }

    [Fact]
    public void SplitLines_ListsNonEmptyLines_WithoutCarriageReturns()
    {
        byte[] packet = "aishell.feature:1|c|#feature:a\r\n\naishell.users:2|g|#role:x\n"u8.ToArray();
        var ranges = new List<Range>();
        char[] scratch = new char[256];
        int chars = DogStatsdParser.SplitLines(packet, scratch, ranges);
        Assert.Equal(2, ranges.Count);
        Assert.Equal("aishell.feature:1|c|#feature:a", scratch.AsSpan(0, chars)[ranges[0]].ToString());
        Assert.Equal("aishell.users:2|g|#role:x", scratch.AsSpan(0, chars)[ranges[1]].ToString());
    }

    [Theory]
    [InlineData("aishell.request:50|ms|#method:GET,endpoint:/api/query,status:200", EventKind.Request)]
    [InlineData("aishell.connection.active:7|g|#database:app1", EventKind.Connection)]
    [InlineData("aishell.connection.pool_size:20|g|#database:app1", EventKind.Connection)]
    [InlineData("aishell.connection.wait:2|ms|#database:app1", EventKind.Connection)]
    [InlineData("aishell.connection_error:1|c|#database:app1,error:08006", EventKind.ConnectionError)]
    [InlineData("aishell.feature:1|c|#feature:nl2sql", EventKind.Feature)]
    [InlineData("aishell.users:3|g|#role:admin", EventKind.Users)]
    [InlineData("aishell.custom.revenue:99.5|g|#product:pro", EventKind.Custom)]
    public void EveryKind_HasALineForm(string line, EventKind kind)
    {
        Assert.Null(DogStatsdParser.TryParse(line, "aishell", out IngestEvent e));
        Assert.Equal(kind, e.Kind);
    }

    [Fact]
    public void CounterSampleRate_ScalesTheCount()
    {
        Assert.Null(DogStatsdParser.TryParse("aishell.feature:1|c|@0.25|#feature:x", "aishell", out IngestEvent e));
        Assert.Equal(4, e.Value);
    }

    [Theory]
    [InlineData("garbage", DogStatsdParser.ReasonSyntax)]
    [InlineData("aishell.query|ms", DogStatsdParser.ReasonSyntax)]
    [InlineData("aishell.query:abc|ms", DogStatsdParser.ReasonBadValue)]
    [InlineData("aishell.query:NaN|ms", DogStatsdParser.ReasonBadValue)]
    [InlineData("aishell.query:1|c", DogStatsdParser.ReasonBadType)]
    [InlineData("other.metric:1|c", DogStatsdParser.ReasonUnknownMetric)]
    [InlineData("aishell.nothing:1|c", DogStatsdParser.ReasonUnknownMetric)]
    [InlineData("aishell.feature:1|c|@7", DogStatsdParser.ReasonSyntax)]
    public void MalformedLines_AreDroppedWithAReason(string line, string reason) =>
        Assert.Equal(reason, DogStatsdParser.TryParse(line, "aishell", out _));
}
