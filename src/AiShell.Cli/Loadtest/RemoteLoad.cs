using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace AiShell.Cli.Loadtest;

/// <summary>
/// <c>--target URL</c> and <c>--udp HOST:PORT</c>: push query events to a running exporter, for
/// ingest throughput. HTTP sends NDJSON batches of --batch events (429 counts as drops and backs
/// off briefly); UDP sends DogStatsD datagrams of up to ~1,400 bytes.
/// </summary>
internal static class RemoteLoad
{
    private static readonly string[] Types = ["SELECT", "INSERT", "UPDATE", "DELETE"];

    public static async Task<int> RunHttpAsync(Uri target, LoadOptions options, CancellationToken stop)
    {
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = options.Concurrency, UseProxy = false })
        {
            Timeout = TimeSpan.FromSeconds(30),
        };
        var stats = new LoadStats();
        await LoadDriver.RunAsync(options, stats, stop,
            (worker, seed, deadline) => PostLoopAsync(http, target, NdjsonBatch(options.Batch, seed), options, worker, deadline));
        double errorRate = stats.PrintSummary($"HTTP NDJSON ingest, {options.Batch} events per request", target.ToString());
        return errorRate <= options.MaxErrorRate ? 0 : 1;
    }

    private static async Task PostLoopAsync(HttpClient http, Uri target, byte[] body, LoadOptions options, LoadStats.Worker worker, CancellationToken stop)
    {
        var pacer = new RatePacer(options.Rate / options.Concurrency);
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await pacer.WaitTurnAsync(options.Batch, stop);
                long started = Stopwatch.GetTimestamp(); // after the pacer: latency is the request's, not the schedule's
                using var content = new ByteArrayContent(body);
                content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/x-ndjson");
                using HttpResponseMessage response = await http.PostAsync(target, content, CancellationToken.None);
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    worker.Done(options.Batch, Stopwatch.GetElapsedTime(started).TotalSeconds);
                }
                else if (response.StatusCode == HttpStatusCode.TooManyRequests)
                {
                    Interlocked.Add(ref worker.Dropped, options.Batch);
                    await Task.Delay(10, CancellationToken.None);
                }
                else
                {
                    Interlocked.Add(ref worker.Errors, options.Batch);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (HttpRequestException)
            {
                Interlocked.Add(ref worker.Errors, options.Batch);
                await Task.Delay(100, CancellationToken.None);
            }
        }
    }

    public static async Task<int> RunUdpAsync(string hostPort, LoadOptions options, CancellationToken stop)
    {
        int colon = hostPort.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(hostPort[(colon + 1)..], out int port) || port is < 1 or > 65535)
        {
            await Console.Error.WriteLineAsync($"✗ --udp: '{hostPort}' is not HOST:PORT");
            return 2;
        }

        IPAddress address = IPAddress.TryParse(hostPort[..colon], out IPAddress? ip) ? ip : (await Dns.GetHostAddressesAsync(hostPort[..colon], stop))[0];
        var stats = new LoadStats();
        await LoadDriver.RunAsync(options, stats, stop, (worker, seed, deadline) =>
        {
            (byte[] packet, int lines) = DogStatsdPacket(seed);
            return LoadDriver.Blocking(() => SendLoop(address, port, packet, lines, options, worker, deadline));
        });
        double errorRate = stats.PrintSummary("DogStatsD over UDP (events sent; the exporter's pipeline_events_received_total tells what arrived)",
            $"udp://{address}:{port}");
        return errorRate <= options.MaxErrorRate ? 0 : 1;
    }

    private static void SendLoop(IPAddress address, int port, byte[] packet, int lines, LoadOptions options, LoadStats.Worker worker, CancellationToken stop)
    {
        using var socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        socket.Connect(new IPEndPoint(address, port));
        var pacer = new RatePacer(options.Rate / options.Concurrency);
        while (!stop.IsCancellationRequested)
        {
            pacer.WaitTurnAsync(lines, CancellationToken.None).AsTask().GetAwaiter().GetResult();
            long started = Stopwatch.GetTimestamp();
            try
            {
                socket.Send(packet);
                worker.Done(lines, Stopwatch.GetElapsedTime(started).TotalSeconds);
            }
            catch (SocketException)
            {
                Interlocked.Add(ref worker.Errors, lines); // e.g. ICMP port unreachable: nobody listens
            }
        }
    }

    internal static byte[] NdjsonBatch(int events, int seed)
    {
        var sb = new StringBuilder(events * 110);
        for (int i = 0; i < events; i++)
        {
            bool error = (i + seed) % 50 == 0;
            sb.Append(CultureInfo.InvariantCulture,
                $"{{\"kind\":\"query\",\"database\":\"app{seed % 4}\",\"type\":\"{Types[i % 4]}\",\"status\":\"{(error ? "error" : "success")}\",\"duration_seconds\":{(i % 997) * 0.0007:0.####}{(error ? ",\"error\":\"40001\"" : "")}}}\n");
        }

        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    internal static (byte[] Packet, int Lines) DogStatsdPacket(int seed)
    {
        var sb = new StringBuilder();
        int lines = 0;
        while (true)
        {
            string line = string.Create(CultureInfo.InvariantCulture,
                $"aishell.query:{(lines % 97) * 0.7:0.#}|ms|#database:app{seed % 4},type:{Types[lines % 4]},status:success\n");
            if (sb.Length + line.Length > 1400)
            {
                break;
            }

            sb.Append(line);
            lines++;
        }

        return (Encoding.UTF8.GetBytes(sb.ToString()), lines);
    }
}
