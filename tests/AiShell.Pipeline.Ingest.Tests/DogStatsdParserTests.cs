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

    [Theory]
    [InlineData("aishell.query:12.5|ms|#database:a,type:SELECT", 0.0125, "a")]
    [InlineData("aishell.query:.5|ms|#database:a", 0.0005, "a")]
    [InlineData("aishell.query:7.|ms|#database:a", 0.007, "a")]
    [InlineData("aishell.query:1e3|ms|#database:a", 1.0, "a")]
    [InlineData("aishell.query:-5|ms|#database:a", -0.005, "a")]
    [InlineData("aishell.query:1234567890123456|ms|#database:a", 1234567890123.456, "a")]
    [InlineData("aishell.query:250|h|#database:a", 250.0, "a")]
    [InlineData("aishell.query:40|ms|@0.5|#database:a", 0.04, "a")]
    [InlineData("aishell.query:40|ms|#database:a|c:container-id", 0.04, "a")]
    [InlineData("aishell.query:40|ms|#database:a|#database:b", 0.04, "b")]
    [InlineData("aishell.query:5|ms|#", 0.005, null)]
    [InlineData("aishell.query:5|ms", 0.005, null)]
    public void QueryLines_OnTheShortPathOrNot_GiveTheEventTheirTextSays(string line, double seconds, string? database)
    {
        foreach (StringPool? pool in new[] { null, new StringPool() })
        {
            Assert.Null(DogStatsdParser.TryParse(line, "aishell", pool, out IngestEvent e));
            Assert.Equal(EventKind.Query, e.Kind);
            Assert.Equal(seconds, e.Duration, 12);
            Assert.Equal(database, e.Database);
        }
    }

    [Fact]
    public void QueryLines_HonourTheConfiguredPrefix()
    {
        Assert.Null(DogStatsdParser.TryParse("myapp.query:7|ms|#database:x", "myapp", out IngestEvent e));
        Assert.Equal((EventKind.Query, 0.007, "x"), (e.Kind, e.Duration, e.Database));
        Assert.Equal(DogStatsdParser.ReasonUnknownMetric, DogStatsdParser.TryParse("aishell.query:7|ms|#database:x", "myapp", out _));
        Assert.Equal(DogStatsdParser.ReasonUnknownMetric, DogStatsdParser.TryParse("aishell.queryx:7|ms|#database:x", "aishell", out _));
        Assert.Equal(DogStatsdParser.ReasonSyntax, DogStatsdParser.TryParse("aishell.query", "aishell", out _));
    }

    [Fact]
    public void Tags_TheFirstOfANameCounts_NamelessOnesAreSkipped_AndEveryQueryAndRequestTagIsRead()
    {
        Assert.Null(DogStatsdParser.TryParse("aishell.query:5|ms|#junk,:x,database:first,database:second,error:40001,status:error,type:INSERT,trace_id:t-9", "aishell", out IngestEvent q));
        Assert.Equal(("first", "INSERT", "error", "40001", "t-9"), (q.Database, q.Type, q.Status, q.Error, q.TraceId));
        Assert.Null(DogStatsdParser.TryParse("aishell.request:5|ms|#status:503,endpoint:/e,status:200,method:POST,endpoint:/other", "aishell", out IngestEvent r));
        Assert.Equal(("POST", "/e", 503), (r.Method, r.Endpoint, r.HttpStatus));
        Assert.Null(DogStatsdParser.TryParse("aishell.request:5|ms|#status:abc", "aishell", out IngestEvent bad));
        Assert.Equal(0, bad.HttpStatus); // validation then refuses it
        Assert.Null(DogStatsdParser.TryParse("aishell.custom.revenue:9|g|#product:pro,region:eu", "aishell", out IngestEvent c));
        Assert.Equal([new("product", "pro"), new("region", "eu")], c.Labels!);
    }

    [Fact]
    public void WithAPool_AQueryLinesTagsAreRememberedWhole_AndGiveWhatParsingThemGives()
    {
        var pool = new StringPool();
        string[] tagLists =
        [
            "database:app1,type:SELECT,status:success",
            "type:INSERT,database:app1,status:error,error:40001",
            "database:first,database:second",
            "junk,status:timeout",
            "",
        ];
        for (int round = 0; round < 3; round++) // the first round parses and remembers, the others look up
        {
            foreach (string tags in tagLists)
            {
                string line = "aishell.query:5|ms" + (tags.Length > 0 ? "|#" + tags : "");
                Assert.Null(DogStatsdParser.TryParse(line, "aishell", pool, out IngestEvent pooled));
                Assert.Null(DogStatsdParser.TryParse(line, "aishell", out IngestEvent plain));
                Assert.Equal((plain.Database, plain.Type, plain.Status, plain.Error), (pooled.Database, pooled.Type, pooled.Status, pooled.Error));
            }
        }

        // A trace id is per event: lines that carry one keep their own.
        for (int i = 0; i < 3; i++)
        {
            Assert.Null(DogStatsdParser.TryParse($"aishell.query:5|ms|#database:app1,trace_id:t{i}", "aishell", pool, out IngestEvent traced));
            Assert.Equal(($"t{i}", "app1"), (traced.TraceId, traced.Database));
        }
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
    public void TheSmallestSampleRate_IsTaken()
    {
        Assert.Null(DogStatsdParser.TryParse("aishell.feature:1|c|@0.000001|#feature:x", "aishell", out IngestEvent e));
        Assert.Equal(1e6, e.Value, 6);
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
    [InlineData("aishell.feature:1|c|@1e-300|#feature:x", DogStatsdParser.ReasonBadValue)]
    [InlineData("aishell.feature:1|c|@0.0000009|#feature:x", DogStatsdParser.ReasonBadValue)]
    [InlineData("aishell.feature:1e305|c|@0.00001|#feature:x", DogStatsdParser.ReasonBadValue)]
    [InlineData("aishell.feature:1|c|@NaN|#feature:x", DogStatsdParser.ReasonSyntax)]
    [InlineData("aishell.feature:1|c|@Infinity|#feature:x", DogStatsdParser.ReasonSyntax)]
    public void MalformedLines_AreDroppedWithAReason(string line, string reason) =>
        Assert.Equal(reason, DogStatsdParser.TryParse(line, "aishell", out _));
}

public sealed class DogStatsdNumberTests
{
    [Theory]
    [InlineData("12.5")]
    [InlineData("-0")]
    [InlineData("+3")]
    [InlineData(".5")]
    [InlineData("1.")]
    [InlineData("0.1")]
    [InlineData("0.3")]
    [InlineData("123456789012345")]
    [InlineData("1234567890123456")]
    [InlineData("0.000000000000001")]
    [InlineData("9007199254740993")]
    [InlineData("1e3")]
    [InlineData("1E-7")]
    [InlineData("Infinity")]
    [InlineData("NaN")]
    public void Values_ParseExactlyAsDoubleParseDoes(string text) => AssertSameAsDoubleParse(text);

    [Theory]
    [InlineData("")]
    [InlineData("-")]
    [InlineData(".")]
    [InlineData("1.2.3")]
    [InlineData("12a")]
    [InlineData("--1")]
    public void Junk_IsRefused(string text) => Assert.False(DogStatsdParser.TryParseNumber(text, out _));

    [Fact]
    public void ManyRandomDecimals_AreBitForBitWhatDoubleParseGives()
    {
        var random = new Random(20261201);
        for (int n = 0; n < 200_000; n++)
        {
            int whole = random.Next(0, 16);
            int fraction = random.Next(0, 16);
            var text = new System.Text.StringBuilder();
            if (random.Next(4) == 0)
            {
                text.Append('-');
            }

            for (int i = 0; i < whole; i++)
            {
                text.Append((char)('0' + random.Next(10)));
            }

            if (fraction > 0 || whole == 0)
            {
                text.Append('.');
                for (int i = 0; i < Math.Max(1, fraction); i++)
                {
                    text.Append((char)('0' + random.Next(10)));
                }
            }

            AssertSameAsDoubleParse(text.ToString());
        }
    }

    private static void AssertSameAsDoubleParse(string text)
    {
        bool expected = double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double want);
        Assert.Equal(expected, DogStatsdParser.TryParseNumber(text, out double got));
        if (expected)
        {
            Assert.True(BitConverter.DoubleToInt64Bits(want) == BitConverter.DoubleToInt64Bits(got), $"'{text}': {want:R} vs {got:R}");
        }
    }
}
