using AiShell.Pipeline.Tests.Shared;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace AiShell.Pipeline.Ingest.Tests;

[Collection(AloneCollection.Name)]
public sealed class UdpIngestListenerTests
{
    [Fact]
    public async Task EveryLineSent_IsFoldedOnce_InTheOrderSent_AndDisposeDeliversWhatIsPending()
    {
        // Receiver and folder are two threads: the queue between them must keep the datagrams'
        // order (the last gauge value sent is the one exposed) and lose nothing on dispose.
        var h = new IngestHarness();
        var listener = new UdpIngestListener(h.Ingestor, IPAddress.Loopback, 0);
        listener.Start();
        const int Datagrams = 3_000;
        const int QueriesPerDatagram = 7;
        using (var udp = new UdpClient())
        {
            udp.Connect(IPAddress.Loopback, listener.Port);
            for (int i = 1; i <= Datagrams; i++)
            {
                var packet = new StringBuilder();
                packet.Append(FormattableString.Invariant($"aishell.users:{i}|g|#role:admin\n"));
                for (int q = 0; q < QueriesPerDatagram; q++)
                {
                    packet.Append(FormattableString.Invariant($"aishell.query:{q}|ms|#database:app{q % 3},type:SELECT,status:success\n"));
                }

                packet.Append("not a line\n");
                await udp.SendAsync(Encoding.UTF8.GetBytes(packet.ToString()));
                if (i % 500 == 0)
                {
                    await Task.Delay(20); // loopback buffers are large, but bounded
                }
            }
        }

        await Task.Delay(200); // the kernel has handed over every datagram to the socket
        await listener.DisposeAsync();
        h.Drain();

        Assert.Equal(Datagrams, h.Value("active_users", "admin"));
        double queries = 0;
        foreach (string db in new[] { "app0", "app1", "app2" })
        {
            queries += h.Value("query_total", db, "SELECT", "success");
        }

        Assert.Equal(Datagrams * QueriesPerDatagram, queries);
        Assert.Equal(Datagrams * (QueriesPerDatagram + 1), h.Value("pipeline_events_received_total", "udp"));
        Assert.Equal(Datagrams, h.Value("pipeline_events_rejected_total", "udp", "syntax"));
    }

    [Fact]
    public async Task ASteadyStream_IsHandedOverWhileItFlows_NotOnlyWhenItPauses()
    {
        // 20 query events per datagram, 1,000 datagrams a second: chunks reach the folder faster
        // than its quiet hand-over (20 ms) and the tallies hold up to 16,384 events, so only the
        // folder's hold limit (50 ms) lets a scrape see the stream before it stops.
        var h = new IngestHarness();
        await using var listener = new UdpIngestListener(h.Ingestor, IPAddress.Loopback, 0);
        listener.Start();
        using var udp = new UdpClient();
        udp.Connect(IPAddress.Loopback, listener.Port);
        var packet = new StringBuilder();
        for (int q = 0; q < 20; q++)
        {
            packet.Append("aishell.query:3|ms|#database:app1,type:SELECT,status:success\n");
        }

        byte[] datagram = Encoding.UTF8.GetBytes(packet.ToString());
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int sent = 0;
        double seen = 0;
        while (sent < 400 && !(seen > 0)) // 8,000 events: half of what the tallies could hold back
        {
            while (clock.Elapsed.TotalMilliseconds < sent)
            {
                Thread.SpinWait(64);
            }

            udp.Send(datagram);
            sent++;
            if (sent % 10 == 0)
            {
                h.Drain();
                seen = h.Value("query_total", "app1", "SELECT", "success");
            }
        }

        Assert.True(seen > 0, $"nothing handed over after {sent * 20} events in {clock.ElapsedMilliseconds} ms of a steady stream");
        Assert.True(seen <= sent * 20);
    }
}

public sealed class UdpSenderFilterTests
{
    private static bool Allows(UdpSenderFilter filter, string address) =>
        filter.Allows(new IPEndPoint(IPAddress.Parse(address), 8125).Serialize());

    [Fact]
    public void Networks_MatchByPrefix_IPv4MappedSendersMatchIPv4Networks()
    {
        var filter = new UdpSenderFilter(["10.0.0.0/8", "192.168.1.128/25", "127.0.0.1/32", "fd00::/8"]);
        Assert.True(Allows(filter, "10.200.3.4"));
        Assert.False(Allows(filter, "11.0.0.1"));
        Assert.True(Allows(filter, "192.168.1.200"));
        Assert.False(Allows(filter, "192.168.1.127"));
        Assert.True(Allows(filter, "127.0.0.1"));
        Assert.False(Allows(filter, "127.0.0.2"));
        Assert.True(Allows(filter, "fd12::1"));
        Assert.False(Allows(filter, "fe80::1"));
        Assert.True(Allows(filter, "::ffff:10.1.2.3"));
        Assert.False(Allows(filter, "::ffff:11.1.2.3"));
    }

    [Fact]
    public void KernelDrops_AreReadFromTheSocketsLineByInode()
    {
        const string table = """
              sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
             1021: 0100007F:1FBD 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4242 2 0000000000000000 0
             1022: 0100007F:1FBE 00000000:0000 07 00000000:0000F000 00:00000000 00000000     0        0 91234 2 0000000000000000 1733
            """;
        Assert.Equal(1733, UdpKernelDrops.Parse(table, 91234));
        Assert.Equal(0, UdpKernelDrops.Parse(table, 4242));
        Assert.Null(UdpKernelDrops.Parse(table, 5));
    }
}
