using AiShell.Pipeline.Tests.Shared;
using System.Text;

namespace AiShell.Pipeline.Ingest.Tests;

public sealed class NdjsonParserTests
{
    private static (bool Ok, List<IngestEvent> Events, IngestError Error) Parse(string body)
    {
        var harness = new IngestHarness();
        var events = new List<IngestEvent>();
        bool ok = NdjsonParser.TryParse(Encoding.UTF8.GetBytes(body), harness.Schema, events, out IngestError error);
        return (ok, events, error);
    }

    [Fact]
    public void QueryEvents_ForADatabaseWhoseSourceIsStatements_AreRefusedWithTheReason()
    {
        var harness = new IngestHarness();
        harness.Sources.SetMode("locked", Metrics.QuerySource.Statements);
        var events = new List<IngestEvent>();
        const string body = "{\"kind\":\"query\",\"database\":\"open\",\"duration_seconds\":0.1}\n" +
            "{\"kind\":\"query\",\"database\":\"locked\",\"duration_seconds\":0.1}\n";
        Assert.False(NdjsonParser.TryParse(Encoding.UTF8.GetBytes(body), harness.Schema, events, out IngestError error));
        Assert.Equal(2, error.Line);
        Assert.Contains("query_source: statements", error.Reason, StringComparison.Ordinal);
        Assert.Single(events);
    }

    [Fact]
    public void ABodyInPieces_ParsesLinesThatSpanPieces()
    {
        var harness = new IngestHarness();
        byte[] body = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 50).Select(i => $"{{\"kind\":\"feature\",\"feature\":\"f{i}\"}}\n")));
        // Pieces of 7 bytes: most lines span two or more.
        var first = new Piece(body.AsMemory(0, 7), 0);
        Piece last = first;
        for (int at = 7; at < body.Length; at += 7)
        {
            last = last.Append(body.AsMemory(at, Math.Min(7, body.Length - at)));
        }

        var sequence = new System.Buffers.ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
        var events = new List<IngestEvent>();
        var sink = new ListSink(events);
        Assert.True(NdjsonParser.TryParse(sequence, harness.Schema, ref sink, out _));
        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"f{i}"), events.Select(e => e.Feature));
        Assert.Equal(50, NdjsonParser.CountEvents(sequence));
    }

    private readonly struct ListSink(List<IngestEvent> events) : IEventSink
    {
        public void Add(ref IngestEvent e) => events.Add(e);
    }

    private sealed class Piece : System.Buffers.ReadOnlySequenceSegment<byte>
    {
        public Piece(ReadOnlyMemory<byte> memory, long index)
        {
            Memory = memory;
            RunningIndex = index;
        }

        public Piece Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Piece(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }

    [Fact]
    public void EveryKindFromTheIssue_Parses()
    {
        const string body = """
            {"kind":"query","database":"app1","type":"SELECT","status":"success","duration_seconds":0.012}
            {"kind":"query","database":"app1","type":"UPDATE","status":"error","duration_seconds":0.3,"error":"40P01"}
            {"kind":"connection","database":"app1","active":7,"pool_size":20,"wait_seconds":0.002}
            {"kind":"connection_error","database":"app1","error":"08006"}
            {"kind":"request","method":"GET","endpoint":"/api/query","status":200,"duration_seconds":0.05}
            {"kind":"feature","feature":"nl2sql"}
            {"kind":"users","role":"admin","active":3}
            {"kind":"custom","name":"business_transactions","labels":{"type":"card","status":"ok"},"value":1}

            """;
        (bool ok, List<IngestEvent> events, _) = Parse(body.Replace("\n", "\r\n", StringComparison.Ordinal));
        Assert.True(ok);
        Assert.Equal(8, events.Count);
        Assert.Equal("40P01", events[1].Error);
        Assert.Equal(200, events[4].HttpStatus);
        Assert.Equal(7, events[2].Active);
        Assert.Equal(1, events[5].Value); // a feature use counts once by default
    }

    [Fact]
    public void Strings_AreUnescaped_RepeatedOnesAreOneInstance_AndLongOnesAreWhole()
    {
        string longEndpoint = "/" + new string('p', 99); // longer than the pool keeps, shorter than a label may be
        string body = "{\"kind\":\"query\",\"database\":\"app1\",\"type\":\"select\",\"duration_seconds\":0.1}\n"
            + "{\"k\\u0069nd\":\"query\",\"database\":\"app1\",\"duration_seconds\":0.1,\"trace_id\":\"t-1\"}\n"
            + "{\"kind\":\"request\",\"method\":\"GET\",\"endpoint\":\"" + longEndpoint + "\",\"status\":200,\"duration_seconds\":0.1}\n"
            + "{\"kind\":\"query\",\"database\":\"app\\u0031\",\"duration_seconds\":0.1}\n";
        (bool ok, List<IngestEvent> events, _) = Parse(body);
        Assert.True(ok);
        Assert.Equal("app1", events[0].Database);
        Assert.Same(events[0].Database, events[1].Database); // pooled: the series lookup compares references
        Assert.Equal("app1", events[3].Database); // escaped: unescaped by the reader
        Assert.Equal("SELECT", events[0].Type);
        Assert.Equal("t-1", events[1].TraceId);
        Assert.Equal(longEndpoint, events[2].Endpoint);
    }

    [Theory]
    [InlineData("{\"kind\":\"query\",\"database\":\"a\",\"duraton_seconds\":1}", 1, "unknown field 'duraton_seconds'")]
    [InlineData("{\"kind\":\"query\",\"database\":\"a\",\"duration_seconds\":1}\nnot json", 2, "not valid JSON")]
    [InlineData("{\"kind\":\"query\",\"duration_seconds\":1}", 1, "database is required")]
    [InlineData("{\"kind\":\"query\",\"database\":\"a\",\"duration_seconds\":-1}", 1, "duration_seconds must be a non-negative number")]
    [InlineData("{\"kind\":\"query\",\"database\":\"a\",\"duration_seconds\":\"fast\"}", 1, "expected a number")]
    [InlineData("{\"kind\":\"query\",\"database\":\"a\",\"status\":\"meh\",\"duration_seconds\":1}", 1, "status 'meh' is not one of")]
    [InlineData("{\"kind\":\"teleport\"}", 1, "kind 'teleport' is not one of")]
    [InlineData("{\"database\":\"a\"}", 1, "kind is required")]
    [InlineData("[1,2]", 1, "each line must be a JSON object")]
    [InlineData("{\"kind\":\"request\",\"endpoint\":\"/x\",\"status\":999,\"duration_seconds\":1}", 1, "status must be an HTTP status code")]
    [InlineData("{\"kind\":\"custom\",\"name\":\"nope\",\"value\":1}", 1, "custom metric 'nope' is not declared")]
    [InlineData("{\"kind\":\"custom\",\"name\":\"revenue\",\"labels\":{\"product\":\"a\",\"user_id\":\"u\"},\"value\":1}", 1, "has no label 'user_id'")]
    [InlineData("{\"kind\":\"custom\",\"name\":\"revenue\",\"labels\":{},\"value\":1}", 1, "needs label 'product'")]
    [InlineData("{\"kind\":\"custom\",\"name\":\"business_transactions\",\"labels\":{\"type\":\"a\",\"status\":\"b\"},\"value\":-1}", 1, "non-negative")]
    [InlineData("{\"kind\":\"query\",\"database\":\"a\",\"duration_seconds\":1,\"trace_id\":\"bad id\"}", 1, "trace_id must be")]
    [InlineData("{\"kind\":\"users\",\"role\":\"admin\"}", 1, "active is required")]
    [InlineData("{\"kind\":\"feature\",\"feature\":\"\\ud800\"}", 1, "unpaired surrogate escape")]
    public void BadLines_NameTheFirstBadLineAndWhy(string body, int line, string reason)
    {
        (bool ok, _, IngestError error) = Parse(body);
        Assert.False(ok);
        Assert.Equal(line, error.Line);
        Assert.Contains(reason, error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void HugeLabelValues_AreRejected_NotTruncated()
    {
        string db = new('x', EventSchema.MaxLabelValueLength + 1);
        (bool ok, _, IngestError error) = Parse($"{{\"kind\":\"query\",\"database\":\"{db}\",\"duration_seconds\":1}}");
        Assert.False(ok);
        Assert.Contains("longer than", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void InvalidUtf8_IsNamedByLineAndByte()
    {
        byte[] body =
        [
            .. "{\"kind\":\"feature\",\"feature\":\"a\"}\n{\"kind\":\"feature\",\"feature\":\"b\"}\n"u8,
            .. "{\"kind\":\"feature\",\"feature\":\"x"u8, 0xC3, 0x28, .. "\"}\n"u8,
        ];
        var events = new List<IngestEvent>();
        Assert.False(NdjsonParser.TryParse(body, new IngestHarness().Schema, events, out IngestError error));
        Assert.Equal(3, error.Line);
        Assert.Equal("not valid UTF-8 at byte 31 (the body must be UTF-8 text)", error.Reason);
    }

    [Fact]
    public void TheLabelLimit_CountsCharacters_NotUtf16Units()
    {
        string emoji = string.Concat(Enumerable.Repeat("🚀", EventSchema.MaxLabelValueLength)); // 512 UTF-16 units
        (bool ok, _, _) = Parse($"{{\"kind\":\"feature\",\"feature\":\"{emoji}\"}}");
        Assert.True(ok);
        (ok, _, IngestError error) = Parse($"{{\"kind\":\"query\",\"database\":\"{emoji}🚀\",\"duration_seconds\":1}}");
        Assert.False(ok);
        Assert.Contains("longer than 256 characters", error.Reason, StringComparison.Ordinal);
        (ok, _, _) = Parse($"{{\"kind\":\"query\",\"database\":\"{emoji}\",\"duration_seconds\":1}}");
        Assert.True(ok);
    }

    [Fact]
    public void NonSqlStateErrors_FoldIntoOther_SoTheLabelStaysBounded()
    {
        Assert.Equal("40P01", EventSchema.NormaliseError("40P01"));
        Assert.Equal("other", EventSchema.NormaliseError("deadlock detected at row 12345"));
        Assert.Equal("unknown", EventSchema.NormaliseError(null));
    }
}
