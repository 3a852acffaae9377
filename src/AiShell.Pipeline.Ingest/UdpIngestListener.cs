using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using AiShell.Pipeline.Metrics;
using AiShell.Pipeline.Metrics.Flow;

namespace AiShell.Pipeline.Ingest;

/// <summary>
/// DogStatsD over UDP, on two dedicated threads in a row, so that parsing and folding run on two
/// cores (one thread doing both was the UDP path's limit, at a full core):
/// <list type="bullet">
/// <item>the receiver takes datagrams (blocking receives: an async receive per datagram cost more than
/// parsing it), parses their lines into chunks of <see cref="ChunkEvents"/> events and queues them
/// (at most <see cref="ChunksInFlight"/>; when the folder lags, the receiver waits and the kernel's
/// socket buffer absorbs, then drops, what comes meanwhile);</item>
/// <item>the folder validates the events and folds them into a builder, handed over when a shard's
/// array is nearly full (<see cref="SampleBatchBuilder.StreamingCapacity"/>) or its tallies are
/// (<see cref="SampleBatchBuilder.MaxTalliedEvents"/>), whenever nothing arrived for
/// <see cref="QuietFlush"/>, and at least every <see cref="MaxHoldMilliseconds"/>.</item>
/// </list>
/// One receiver, one folder and a FIFO queue keep the datagrams' order, so the last gauge value sent
/// is the one exposed (several receivers on one socket would not). When the pipeline is full the
/// batch is dropped and counted (UDP has no way to push back). Malformed lines are dropped and
/// counted by reason. Neither loop dies on a bad packet; on dispose they hand over what they hold.
/// </summary>
public sealed class UdpIngestListener : IAsyncDisposable
{
    /// <summary>Events per chunk: the hand-off between the threads (a queue operation and maybe a wake-up) is paid per chunk.</summary>
    internal const int ChunkEvents = 256;

    /// <summary>Chunks queued between receiver and folder at most (256 events of 150 bytes each: about 1.2 MiB).</summary>
    internal const int ChunksInFlight = 32;

    private static readonly TimeSpan QuietFlush = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// Longest the folder holds accepted events before handing them over, however they trickle in
    /// (the builder tallies up to <see cref="SampleBatchBuilder.MaxTalliedEvents"/> query events).
    /// </summary>
    private const long MaxHoldMilliseconds = 50;
    private readonly EventIngestor _ingestor;
    private readonly Socket _socket;
    private readonly string _prefix;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly BlockingCollection<EventChunk> _parsed = new(new ConcurrentQueue<EventChunk>(), ChunksInFlight);
    private readonly ConcurrentQueue<EventChunk> _free = new();
    private readonly CancellationTokenSource _folderFailed = new();
    private long _handedOverAt = Environment.TickCount64; // the folder thread's last hand-over
    private volatile bool _stopping;
    private Exception? _receiverFailure;
    private Thread? _receiver;
    private readonly UdpSenderFilter? _allow;
    private readonly Series? _notAllowed, _kernelDropped;
    private readonly UdpKernelDrops? _kernelDrops;
    private readonly Timer? _dropPoll;
    private long _kernelDropsSeen;

    /// <param name="registry">Where the datagrams dropped before parsing are counted (null: not counted).</param>
    /// <param name="allow">prometheus.ingest.udp_allow; null or empty: every sender.</param>
    /// <param name="log">Where a receive buffer smaller than asked is reported.</param>
    public UdpIngestListener(EventIngestor ingestor, IPAddress address, int port, string prefix = "aishell", MetricRegistry? registry = null,
        int receiveBufferBytes = 8 * 1024 * 1024, IReadOnlyCollection<string>? allow = null, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(address);
        _ingestor = ingestor;
        _prefix = prefix;
        _socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        _socket.ReceiveBufferSize = receiveBufferBytes;
        // Linux reports twice what it reserves (the other half is its bookkeeping) and caps the
        // request at net.core.rmem_max.
        int granted = OperatingSystem.IsLinux() ? _socket.ReceiveBufferSize / 2 : _socket.ReceiveBufferSize;
        if (granted < receiveBufferBytes)
        {
            log?.Invoke($"warning: prometheus.ingest.udp_receive_buffer_bytes {receiveBufferBytes}: the kernel gave {granted} " +
                "(net.core.rmem_max caps it; raise that with sysctl for bursts this large)");
        }

        _socket.ReceiveTimeout = (int)QuietFlush.TotalMilliseconds;
        _socket.Bind(new IPEndPoint(address, port));
        if (allow is { Count: > 0 })
        {
            _allow = new UdpSenderFilter(allow);
        }

        if (registry is not null)
        {
            MetricFamily dropped = registry.Register(MetricCatalog.UdpDatagramsDroppedTotal);
            _notAllowed = dropped.WithLabels("not_allowed");
            _kernelDropped = dropped.WithLabels("kernel");
            _notAllowed.Add(0);
            _kernelDropped.Add(0);
            _kernelDrops = UdpKernelDrops.For(_socket);
            if (_kernelDrops is not null)
            {
                _dropPoll = new Timer(static state => ((UdpIngestListener)state!).PollKernelDrops(), this, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
            }
        }
    }

    /// <summary>Adds what the kernel dropped since the last look (its count is the socket's, from bind on).</summary>
    private void PollKernelDrops()
    {
        if (_kernelDrops?.Read() is { } drops && drops > _kernelDropsSeen)
        {
            _kernelDropped!.Add(drops - _kernelDropsSeen);
            _kernelDropsSeen = drops;
        }
    }

    public int Port => ((IPEndPoint)_socket.LocalEndPoint!).Port;

    public void Start()
    {
        new Thread(FoldLoop) { IsBackground = true, Name = "aishell.udp-fold" }.Start();
        _receiver = new Thread(ReceiveLoop) { IsBackground = true, Name = "aishell.udp" };
        _receiver.Start();
    }

    private void ReceiveLoop()
    {
        byte[] buffer = new byte[65536];
        char[] scratch = new char[65536];
        var lines = new List<Range>();
        var pool = new StringPool();
        CustomMetricType customTypes = _ingestor.Schema.CustomTypeOf;
        var sender = new SocketAddress(_socket.AddressFamily);
        EventChunk chunk = RentChunk();
        try
        {
            // Once stopping, what the kernel already holds is still read and queued.
            while (!_stopping || _socket.Available > 0)
            {
                int received;
                try
                {
                    // Receive when every sender is taken; with udp_allow, ReceiveFrom into a reused
                    // SocketAddress (the EndPoint overload built an object per datagram).
                    received = _allow is null ? _socket.Receive(buffer, SocketFlags.None) : _socket.ReceiveFrom(buffer, SocketFlags.None, sender);
                }
                catch (SocketException ex) when (ex.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock)
                {
                    Queue(ref chunk); // quiet: let the folder have what is pending
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

                if (_allow is not null && !_allow.Allows(sender))
                {
                    _notAllowed?.Add(1);
                    continue;
                }

                lines.Clear();
                int chars = DogStatsdParser.SplitLines(buffer.AsSpan(0, received), scratch, lines, out int notUtf8);
                if (notUtf8 > 0)
                {
                    _ingestor.CountRefused(IngestSources.Udp, DogStatsdParser.ReasonSyntax, notUtf8);
                }

                ReadOnlySpan<char> text = scratch.AsSpan(0, chars);
                foreach (Range line in lines)
                {
                    // Parsed straight into the chunk's slot (no copy of the event); a refused line's slot is reused.
                    if (DogStatsdParser.TryParse(text[line], _prefix, pool, customTypes, out chunk.Events[chunk.Count], out int values) is { } reason)
                    {
                        _ingestor.Rejected(IngestSources.Udp, reason);
                        continue;
                    }

                    IngestEvent first = values > 1 ? chunk.Events[chunk.Count] : default; // copied only for a multi-value line
                    if (++chunk.Count == ChunkEvents)
                    {
                        Queue(ref chunk);
                    }

                    if (values > 1)
                    {
                        // The other values of a multi-value timing (checked with the first): one pass.
                        var others = new DogStatsdParser.OtherValues(text[line]);
                        while (others.Next(out double seconds))
                        {
                            chunk.Events[chunk.Count] = DogStatsdParser.WithValue(first, seconds);
                            if (++chunk.Count == ChunkEvents)
                            {
                                Queue(ref chunk);
                            }
                        }
                    }
                }
            }

            Queue(ref chunk);
        }
        catch (OperationCanceledException) when (_folderFailed.IsCancellationRequested)
        {
            // The folder failed and reports it; nothing takes chunks any more.
        }
        catch (Exception ex)
        {
            _receiverFailure = ex;
        }
        finally
        {
            _parsed.CompleteAdding();
        }
    }

    /// <summary>Queues a chunk that holds events (waiting while the folder is behind) and rents the next.</summary>
    private void Queue(ref EventChunk chunk)
    {
        if (chunk.Count > 0)
        {
            _parsed.Add(chunk, _folderFailed.Token);
            chunk = RentChunk();
        }
    }

    private EventChunk RentChunk() => _free.TryDequeue(out EventChunk? chunk) ? chunk : new EventChunk();

    private void FoldLoop()
    {
        var builder = new SampleBatchBuilder(IngestSources.Udp, _ingestor.Shards, SampleBatchBuilder.StreamingCapacity, _ingestor.Schema.MaxSamplesPerEvent, tallyEvents: true);
        var batches = new List<SampleBatch>(_ingestor.Shards); // reused for every hand-over
        int events = 0;
        try
        {
            while (true)
            {
                if (!_parsed.TryTake(out EventChunk? chunk, QuietFlush))
                {
                    if (_parsed.IsCompleted)
                    {
                        break;
                    }

                    HandOver(builder, batches, ref events); // quiet: deliver what is pending
                    continue;
                }

                foreach (ref IngestEvent e in chunk.Events.AsSpan(0, chunk.Count))
                {
                    if (_ingestor.Schema.Validate(ref e) is not null)
                    {
                        _ingestor.Rejected(IngestSources.Udp, "invalid");
                        continue;
                    }

                    _ingestor.Schema.Fold(e, builder);
                    events++;
                    if (builder.NearlyFull)
                    {
                        HandOver(builder, batches, ref events); // a chunk may hold more than one batch
                    }
                }

                chunk.Count = 0;
                _free.Enqueue(chunk);
                if (events > 0 && Environment.TickCount64 - _handedOverAt >= MaxHoldMilliseconds)
                {
                    HandOver(builder, batches, ref events); // a steady trickle never goes quiet nor fills the tallies
                }
            }

            HandOver(builder, batches, ref events);
            if (_receiverFailure is { } failure)
            {
                _stopped.TrySetException(failure);
            }
            else
            {
                _stopped.TrySetResult();
            }
        }
        catch (Exception ex)
        {
            _folderFailed.Cancel(); // a receiver waiting for room gives up
            _stopped.TrySetException(ex);
        }
    }

    private void HandOver(SampleBatchBuilder builder, List<SampleBatch> batches, ref int events)
    {
        _handedOverAt = Environment.TickCount64;
        if (events > 0 && !_ingestor.TryHandOver(builder, events, IngestSources.Udp, batches))
        {
            _ingestor.Dropped(IngestSources.Udp, events);
        }

        events = 0;
    }

    public async ValueTask DisposeAsync()
    {
        _stopping = true;
        if (_receiver is not null)
        {
            // The receive wakes within QuietFlush (its timeout), sees the flag, queues what it holds
            // and completes the queue; the folder folds the rest, hands over and exits.
            await _stopped.Task.WaitAsync(TimeSpan.FromSeconds(10));
        }

        if (_dropPoll is not null)
        {
            await _dropPoll.DisposeAsync();
            PollKernelDrops();
        }

        _socket.Dispose();
        _parsed.Dispose();
        _folderFailed.Dispose();
    }

    /// <summary>Parsed events on their way from the receiver to the folder; chunks are reused.</summary>
    private sealed class EventChunk
    {
        public readonly IngestEvent[] Events = new IngestEvent[ChunkEvents];
        public int Count;
    }
}
