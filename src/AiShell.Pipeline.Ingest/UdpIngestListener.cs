using System.Net;
using System.Net.Sockets;
using AiShell.Pipeline.Metrics.Pipeline;

namespace AiShell.Pipeline.Ingest;

/// <summary>
/// DogStatsD over UDP. One receive loop folds datagrams into a builder and hands it over when it
/// holds enough samples or no more datagrams are waiting. When the pipeline is full the batch is
/// dropped and counted (UDP has no way to push back). Malformed lines are dropped and counted by
/// reason. The loop never dies on a bad packet.
/// </summary>
public sealed class UdpIngestListener : IAsyncDisposable
{
    private const int FlushSamples = SampleBatchBuilder.SmallArray - 64;
    private readonly EventIngestor _ingestor;
    private readonly Socket _socket;
    private readonly string _prefix;
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    public UdpIngestListener(EventIngestor ingestor, IPAddress address, int port, string prefix = "aishell")
    {
        ArgumentNullException.ThrowIfNull(address);
        _ingestor = ingestor;
        _prefix = prefix;
        _socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        _socket.ReceiveBufferSize = 8 * 1024 * 1024;
        _socket.Bind(new IPEndPoint(address, port));
    }

    public int Port => ((IPEndPoint)_socket.LocalEndPoint!).Port;

    public void Start() => _loop = Task.Run(ReceiveLoopAsync);

    private async Task ReceiveLoopAsync()
    {
        byte[] buffer = new byte[65536];
        char[] scratch = new char[65536];
        var lines = new List<string>();
        var builder = new SampleBatchBuilder(IngestSources.Udp, _ingestor.Shards, SampleBatchBuilder.SmallArray);
        int events = 0;
        EndPoint any = new IPEndPoint(_socket.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                SocketReceiveFromResult received = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, any, _stop.Token);
                lines.Clear();
                DogStatsdParser.SplitLines(buffer.AsSpan(0, received.ReceivedBytes), scratch, lines);
                foreach (string line in lines)
                {
                    string? reason = DogStatsdParser.TryParse(line, _prefix, out IngestEvent e) ?? Validate(ref e);
                    if (reason is not null)
                    {
                        _ingestor.Rejected(IngestSources.Udp, reason);
                        continue;
                    }

                    _ingestor.Schema.Fold(e, builder);
                    events++;
                }

                if (events > 0 && (builder.Count >= FlushSamples || _socket.Available == 0))
                {
                    if (!_ingestor.TryHandOver(builder, events, IngestSources.Udp))
                    {
                        _ingestor.Dropped(IngestSources.Udp, events);
                    }

                    events = 0;
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                break;
            }
            catch (SocketException)
            {
                // An ICMP error from a previous send or a transient failure: keep receiving.
            }
        }

        if (events > 0 && !_ingestor.TryHandOver(builder, events, IngestSources.Udp))
        {
            _ingestor.Dropped(IngestSources.Udp, events);
        }
    }

    private string? Validate(ref IngestEvent e) => _ingestor.Schema.Validate(ref e) is null ? null : "invalid";

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_loop is not null)
        {
            await _loop;
        }

        _socket.Dispose();
        _stop.Dispose();
    }
}
