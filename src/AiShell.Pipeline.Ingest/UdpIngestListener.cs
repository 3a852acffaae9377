using System.Net;
using System.Net.Sockets;
using AiShell.Pipeline.Metrics.Pipeline;

namespace AiShell.Pipeline.Ingest;

/// <summary>
/// DogStatsD over UDP. One dedicated thread receives datagrams (blocking receives: an async receive
/// per datagram cost more than parsing it) and folds their lines into a builder, handed over when a
/// shard's array is nearly full (<see cref="SampleBatchBuilder.StreamingCapacity"/>) and whenever the socket has been quiet for
/// <see cref="QuietFlush"/>. When the pipeline is full the batch is dropped and counted (UDP has no
/// way to push back). Malformed lines are dropped and counted by reason. The loop never dies on a
/// bad packet; on dispose it hands over what it holds before it exits.
/// </summary>
public sealed class UdpIngestListener : IAsyncDisposable
{
    private static readonly TimeSpan QuietFlush = TimeSpan.FromMilliseconds(20);
    private readonly EventIngestor _ingestor;
    private readonly Socket _socket;
    private readonly string _prefix;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _stopping;
    private Thread? _thread;

    public UdpIngestListener(EventIngestor ingestor, IPAddress address, int port, string prefix = "aishell")
    {
        ArgumentNullException.ThrowIfNull(address);
        _ingestor = ingestor;
        _prefix = prefix;
        _socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        _socket.ReceiveBufferSize = 8 * 1024 * 1024;
        _socket.ReceiveTimeout = (int)QuietFlush.TotalMilliseconds;
        _socket.Bind(new IPEndPoint(address, port));
    }

    public int Port => ((IPEndPoint)_socket.LocalEndPoint!).Port;

    public void Start()
    {
        _thread = new Thread(ReceiveLoop) { IsBackground = true, Name = "aishell.udp" };
        _thread.Start();
    }

    private void ReceiveLoop()
    {
        byte[] buffer = new byte[65536];
        char[] scratch = new char[65536];
        var lines = new List<Range>();
        var pool = new StringPool();
        var builder = new SampleBatchBuilder(IngestSources.Udp, _ingestor.Shards, SampleBatchBuilder.StreamingCapacity, _ingestor.Schema.MaxSamplesPerEvent);
        var batches = new List<SampleBatch>(_ingestor.Shards); // reused for every hand-over
        int events = 0;
        try
        {
            // Once stopping, what the kernel already holds is still read and handed over.
            while (!_stopping || _socket.Available > 0)
            {
                int received;
                try
                {
                    // Receive, not ReceiveFrom: the sender's address is not needed, and ReceiveFrom built an endpoint object per datagram.
                    received = _socket.Receive(buffer, SocketFlags.None);
                }
                catch (SocketException ex) when (ex.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock)
                {
                    HandOver(builder, batches, ref events); // quiet: deliver what is pending
                    continue;
                }
                catch (SocketException) when (!_stopping)
                {
                    continue; // an ICMP error from a previous send or a transient failure: keep receiving
                }
                catch (Exception ex) when (ex is SocketException or ObjectDisposedException && _stopping)
                {
                    break;
                }

                lines.Clear();
                int chars = DogStatsdParser.SplitLines(buffer.AsSpan(0, received), scratch, lines);
                ReadOnlySpan<char> text = scratch.AsSpan(0, chars);
                foreach (Range line in lines)
                {
                    string? reason = DogStatsdParser.TryParse(text[line], _prefix, pool, out IngestEvent e) ?? Validate(ref e);
                    if (reason is not null)
                    {
                        _ingestor.Rejected(IngestSources.Udp, reason);
                        continue;
                    }

                    _ingestor.Schema.Fold(e, builder);
                    events++;
                    if (builder.NearlyFull)
                    {
                        HandOver(builder, batches, ref events); // a datagram may hold more than one batch
                    }
                }
            }

            HandOver(builder, batches, ref events);
            _stopped.TrySetResult();
        }
        catch (Exception ex)
        {
            _stopped.TrySetException(ex);
        }
    }

    private void HandOver(SampleBatchBuilder builder, List<SampleBatch> batches, ref int events)
    {
        if (events > 0 && !_ingestor.TryHandOver(builder, events, IngestSources.Udp, batches))
        {
            _ingestor.Dropped(IngestSources.Udp, events);
        }

        events = 0;
    }

    private string? Validate(ref IngestEvent e) => _ingestor.Schema.Validate(ref e) is null ? null : "invalid";

    public async ValueTask DisposeAsync()
    {
        _stopping = true;
        if (_thread is not null)
        {
            // The receive wakes within QuietFlush (its timeout), sees the flag, hands over and exits.
            await _stopped.Task.WaitAsync(TimeSpan.FromSeconds(10));
        }

        _socket.Dispose();
    }
}
