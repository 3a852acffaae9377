using AiShell.Pipeline.Tests.Shared;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace AiShell.Pipeline.Ingest.Tests;

/// <summary>
/// DogStatsD lines as real clients send them, through the UDP listener into the registry: each
/// line in a datagram of its own, the exact numbers checked. Custom metrics declared in the
/// harness: business_transactions (counter; type, status), revenue (gauge; product), latency
/// (histogram; route; buckets 0.1, 1, 10).
/// </summary>
[Collection(AloneCollection.Name)]
public sealed class DogStatsdFoldingTests
{
    private static Task<IngestHarness> SendAsync(params string[] lines) => SendAsync([.. lines.Select(Encoding.UTF8.GetBytes)]);

    private static async Task<IngestHarness> SendAsync(params byte[][] datagrams)
    {
        var h = new IngestHarness();
        var listener = new UdpIngestListener(h.Ingestor, IPAddress.Loopback, 0);
        listener.Start();
        using (var udp = new UdpClient())
        {
            udp.Connect(IPAddress.Loopback, listener.Port);
            foreach (byte[] datagram in datagrams)
            {
                await udp.SendAsync(datagram);
            }
        }

        await Task.Delay(200); // the kernel has handed every datagram to the socket
        await listener.DisposeAsync();
        h.Drain();
        return h;
    }

    private static double Rejected(IngestHarness h, string reason) => h.Value("pipeline_events_rejected_total", "udp", reason) is var v && double.IsNaN(v) ? 0 : v;

    [Fact]
    public async Task ALineWhoseTypeIsNotTheDeclaredOne_IsRefusedAsBadType_AndChangesNothing()
    {
        IngestHarness h = await SendAsync(
            "aishell.custom.business_transactions:5|g|#type:a,status:ok",   // gauge line, counter declared
            "aishell.custom.business_transactions:250|ms|#type:a,status:ok", // timer line, counter declared
            "aishell.custom.revenue:3|c|#product:p",                         // counter line, gauge declared
            "aishell.custom.latency:1|g|#route:r",                           // gauge line, histogram declared
            "aishell.custom.latency:1|c|#route:r",                           // counter line, histogram declared
            "aishell.custom.business_transactions:2|c|#type:a,status:ok",
            "aishell.custom.revenue:9|g|#product:p",
            "aishell.custom.latency:250|ms|#route:r",
            "aishell.custom.undeclared:1|c");

        Assert.Equal(5, Rejected(h, DogStatsdParser.ReasonBadType));
        Assert.Equal(1, Rejected(h, DogStatsdParser.ReasonUnknownMetric));
        Assert.Equal(2, h.Value("business_transactions_total", "a", "ok"));
        Assert.Equal(9, h.Value("revenue", "p"));
        Assert.Equal(1, h.HistogramCount("latency", "r"));
        Assert.Equal(0.25, h.HistogramSum("latency", "r"), 12);
    }

    [Fact]
    public async Task ASampledTiming_StandsForOneOverTheRate_Observations()
    {
        IngestHarness h = await SendAsync(
            "aishell.custom.latency:100|ms|@0.25|#route:r",
            "aishell.custom.latency:2|h|@0.1|#route:h",
            "aishell.custom.latency:2|d|@0.5|#route:d",
            "aishell.query:100|ms|@0.25|#database:app1,type:SELECT,status:success",
            "aishell.query:2000|ms|@0.5|#database:app1,type:SELECT,status:error,error:57014",
            "aishell.request:30|ms|@0.2|#method:GET,endpoint:/x,status:200");

        Assert.Equal(4, h.HistogramCount("latency", "r"));
        Assert.Equal(0.4, h.HistogramSum("latency", "r"), 12);
        Assert.Equal(4, h.Series("latency", "r").BucketCount(0)); // 0.1 s: in le="0.1"
        Assert.Equal(10, h.HistogramCount("latency", "h"));
        Assert.Equal(20, h.HistogramSum("latency", "h"), 12);
        Assert.Equal(2, h.HistogramCount("latency", "d"));
        Assert.Equal(4, h.Value("query_total", "app1", "SELECT", "success"));
        Assert.Equal(2, h.Value("query_total", "app1", "SELECT", "error"));
        Assert.Equal(2, h.Value("slow_query_total", "app1", "0.5"));
        Assert.Equal(2, h.Value("slow_query_total", "app1", "1"));
        Assert.Equal(2, h.Value("query_errors_total", "app1", "SELECT", "57014"));
        Assert.Equal(6, h.HistogramCount("query_duration_seconds", "app1", "SELECT"));
        Assert.Equal(0.4 + 4, h.HistogramSum("query_duration_seconds", "app1", "SELECT"), 9);
        Assert.Equal(5, h.Value("http_requests_total", "GET", "/x", "200"));
        Assert.Equal(5, h.HistogramCount("http_request_duration_seconds", "GET", "/x"));
    }

    [Fact]
    public async Task MultiValueTimings_AreEachObserved_AndRefusedForCountersAndGauges()
    {
        IngestHarness h = await SendAsync(
            "aishell.custom.latency:0.5:120:3000|ms|#route:m",
            "aishell.custom.latency:1:2|ms|@0.5|#route:s",
            "aishell.custom.business_transactions:1:2|c|#type:a,status:ok",
            "aishell.custom.revenue:1:2|g|#product:p",
            "aishell.custom.latency:1:x:3|ms|#route:bad",
            "aishell.query:5:10|ms|#database:app1,type:INSERT,status:success");

        Assert.Equal(3, h.HistogramCount("latency", "m"));
        Assert.Equal(0.0005 + 0.12 + 3, h.HistogramSum("latency", "m"), 12);
        Assert.Equal(4, h.HistogramCount("latency", "s"));
        Assert.Equal(0.006, h.HistogramSum("latency", "s"), 12);
        Assert.Equal(2, Rejected(h, DogStatsdParser.ReasonBadType));
        Assert.Equal(1, Rejected(h, DogStatsdParser.ReasonBadValue)); // the whole line, none of its values
        Assert.Equal(0, h.HistogramCount("latency", "bad"));
        Assert.Equal(2, h.Value("query_total", "app1", "INSERT", "success"));
        Assert.Equal(3 + 2 + 2, h.Value("pipeline_events_received_total", "udp")); // one event per value
    }

    [Fact]
    public async Task TagFormsOfRealClients_AreMerged_AndContainerIdAndTimestampAreIgnored()
    {
        IngestHarness h = await SendAsync(
            "aishell.custom.business_transactions:1|c|#type:t1,#status:s1",       // '#' before each key (PHP clients)
            "aishell.custom.business_transactions:2|c|#type:t2|#status:s2",       // two tag sections
            "aishell.custom.business_transactions:3|c|#type:t3,status:s3|c:83c0a99c0a54|T1700000000");

        Assert.Equal(0, Rejected(h, "invalid"));
        Assert.Equal(1, h.Value("business_transactions_total", "t1", "s1"));
        Assert.Equal(2, h.Value("business_transactions_total", "t2", "s2"));
        Assert.Equal(3, h.Value("business_transactions_total", "t3", "s3"));
    }

    [Fact]
    public async Task ASignedGaugeValue_ChangesTheGauge_AnUnsignedOneSetsIt()
    {
        IngestHarness h = await SendAsync(
            "aishell.custom.revenue:10|g|#product:g",
            "aishell.custom.revenue:+4|g|#product:g",
            "aishell.custom.revenue:-10|g|#product:g",
            "aishell.custom.revenue:-1.5|g|#product:h",
            "aishell.users:5|g|#role:r",
            "aishell.users:+2|g|#role:r",
            "aishell.connection.active:3|g|#database:d",
            "aishell.connection.active:-1|g|#database:d");

        Assert.Equal(4, h.Value("revenue", "g"));
        Assert.Equal(-1.5, h.Value("revenue", "h"));
        Assert.Equal(7, h.Value("active_users", "r"));
        Assert.Equal(2, h.Value("connections_active", "d", "pool"));
    }

    [Fact]
    public async Task RepeatedTagNames_TheFirstOfASectionCounts_ALaterSectionOverridesAnEarlierOne()
    {
        IngestHarness h = await SendAsync(
            "aishell.custom.business_transactions:1|c|#type:t1,type:t2,status:s",
            "aishell.custom.business_transactions:2|c|#type:y1,#type:y2,status:s",
            "aishell.custom.business_transactions:3|c|#type:x1,status:s|#type:x2");

        Assert.Equal(1, h.Value("business_transactions_total", "t1", "s"));
        Assert.Equal(2, h.Value("business_transactions_total", "y1", "s"));
        Assert.Equal(3, h.Value("business_transactions_total", "x2", "s"));
    }

    [Fact]
    public async Task ALongMultiValueLine_CountsEveryValue_AndTheNextLineIsTaken()
    {
        string values = string.Join(':', Enumerable.Repeat("1", 8_000)); // 16 KB in one datagram
        IngestHarness h = await SendAsync($"aishell.custom.latency:{values}|h|#route:long", "aishell.custom.business_transactions:1|c|#type:after,status:s");
        Assert.Equal(8_000, h.HistogramCount("latency", "long"));
        Assert.Equal(8_000, h.HistogramSum("latency", "long"), 9);
        Assert.Equal(1, h.Value("business_transactions_total", "after", "s"));
        var events = new List<IngestEvent>();
        Assert.Null(DogStatsdParser.TryParseAll($"aishell.custom.latency:{values}|h|#route:x", "aishell", null, events));
        Assert.Equal(8_000, events.Count);
    }

    [Fact]
    public async Task ALineThatIsNotUtf8_IsRefused_TheOthersOfItsDatagramAreTaken()
    {
        IngestHarness h = await SendAsync(
            [.. "aishell.custom.business_transactions:1|c|#type:ok,status:s\naishell.custom.business_transactions:1|c|#type:"u8, 0xFF, 0xFE, .. ",status:s\n"u8]);
        Assert.Equal(1, h.Value("business_transactions_total", "ok", "s"));
        Assert.Equal(1, Rejected(h, DogStatsdParser.ReasonSyntax));
        Assert.Equal(1, h.Registry.Find("aishell_business_transactions_total")!.Count);
    }

    [Fact]
    public async Task AHugeTimingWithAnExactRate_IsTaken_AndACounterCannotReachInfinity()
    {
        IngestHarness h = await SendAsync(
            "aishell.custom.latency:1e308|ms|@0.5|#route:huge",
            "aishell.custom.business_transactions:1e308|c|#type:big,status:s",
            "aishell.custom.business_transactions:1e308|c|#type:big,status:s");

        Assert.Equal(2, h.HistogramCount("latency", "huge"));
        Assert.Equal(1e308, h.Value("business_transactions_total", "big", "s")); // the second would have made it +Inf
    }
}
