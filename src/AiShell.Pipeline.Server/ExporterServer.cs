using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using System.Text.Json;
using AiShell.Pipeline.Metrics;
using AiShell.Pipeline.Metrics.Exposition;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AiShell.Pipeline.Server;

/// <summary>
/// The HTTP endpoint: Kestrel's server with one handler (no host, no routing): it routes a handful of
/// fixed paths; the metrics path streams the registry from a pooled buffer and never waits on a collector.
/// </summary>
public sealed class ExporterServer : IAsyncDisposable
{
    public const string HealthPath = "/healthz";
    public const string ReadyPath = "/ready";
    public const string StatusPath = "/api/v1/status";
    public const string EventsPath = "/api/v1/events";
    public const string TargetsPath = "/api/v1/targets";

    /// <summary>A scrape is sent in pieces of about this size (see ServeMetricsAsync).</summary>
    internal const int ScrapeChunkBytes = 32 * 1024;

    private readonly KestrelServer _server;
    private readonly MetricRegistry _registry;
    private readonly IExporterStatus _pipeline;
    private readonly ServerOptions _options;
    private readonly HttpSelfMetrics _http;
    private readonly ScrapeBufferPool _buffers = new(capacity: 8);
    private readonly IngestGate _ingest;
    private readonly Timer _giveBack;

    /// <summary>
    /// A burst of event bodies this large (bytes in flight at once) is followed, once nothing is in
    /// flight, by a compacting collection that returns the freed heap to the OS: the GC does not
    /// run while the process idles, and without it a burst's 200+ MB stayed resident for good.
    /// </summary>
    internal const long GiveBackAfterBytes = 16 * 1024 * 1024;

    /// <summary>Bytes Kestrel reads ahead of the handler on one connection.</summary>
    internal const int TransportReadBufferBytes = 64 * 1024;

    // Large registries (10,000 series and up) are serialized on every core; one scrape at a time.
    private readonly ParallelScrapeWriter _parallel = new();
    private readonly Series _textScrapes;
    private readonly Series _openMetricsScrapes;
    private long _lastScrapeTicks;
    private long _scrapes;

    private ExporterServer(KestrelServer server, MetricRegistry registry, IExporterStatus pipeline, ServerOptions options)
    {
        _server = server;
        _registry = registry;
        _pipeline = pipeline;
        _options = options;
        _http = new HttpSelfMetrics(registry);
        _access = options.Access;
        _ingest = new IngestGate(options.MaxInflightBytes);
        _giveBack = new Timer(static state => ((ExporterServer)state!).GiveBack(), this, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(2));
        MetricFamily scrapes = registry.Register(MetricCatalog.ScrapesTotal);
        _textScrapes = scrapes.WithLabels("text");
        _openMetricsScrapes = scrapes.WithLabels("openmetrics");
    }

    /// <summary>The port actually bound (differs from the configured one when that was 0).</summary>
    public int Port { get; private set; }

    private Security.AccessControl? _access;

    /// <summary>Who may call the endpoints; replaced on a config reload (null: everyone).</summary>
    public Security.AccessControl? Access
    {
        get => Volatile.Read(ref _access);
        set => Volatile.Write(ref _access, value);
    }

    /// <summary>A cluster member's view, shown by <c>/api/v1/status</c>; null on a single node.</summary>
    public Func<ClusterStatus>? Cluster { get; set; }

    /// <summary>What GET /api/v1/targets (http_sd) serves; set once the port is known.</summary>
    public Discovery.DiscoveryTargets? Targets { get; set; }

    public static ExporterServer Create(MetricRegistry registry, IExporterStatus pipeline, ServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        // Kestrel's own server, without a host: no dependency-injection container (whose open
        // generic services were built by runtime type loading under Native AOT: a quarter of the
        // start's CPU), no configuration sources, no routing.
        var logging = new Hosting.StderrLoggerFactory(LogLevel.Warning);
        var kestrel = new KestrelServerOptions { AddServerHeader = false };
        kestrel.Limits.MaxRequestBodySize = options.MaxEventBodyBytes + 1; // the events handler answers 413 itself
        kestrel.Limits.MaxRequestHeadersTotalSize = 32 * 1024;
        kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(10);
        kestrel.Limits.MaxConcurrentConnections = options.MaxConnections;
        kestrel.Limits.MaxRequestBufferSize = TransportReadBufferBytes;
        kestrel.Limits.MaxConcurrentUpgradedConnections = 0;
        kestrel.Listen(BindAddress(options.Host), options.Port, listen =>
        {
            if (options.Tls is { } tls)
            {
                ILogger tlsLog = logging.CreateLogger("AiShell.Pipeline.Server.Tls");
                listen.Use(next => new Security.TlsConnectionMiddleware(next, tls, tlsLog).OnConnectionAsync);
            }
        });
        // The events endpoint consumes bodies as they arrive (BodyBuffer), so the transport needs no
        // 1 MiB buffer per connection: with it, 128 clients refused with 429 held ~1.3 MB each.
        var transport = new SocketTransportFactory(Options.Create(new SocketTransportOptions { MaxReadBufferSize = TransportReadBufferBytes }), logging);
        var server = new KestrelServer(Options.Create(kestrel), transport, logging);
        return new ExporterServer(server, registry, pipeline, options);
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await _server.StartAsync(new Hosting.ExporterApplication(HandleAsync), cancellationToken);
        IServerAddressesFeature? addresses = _server.Features.Get<IServerAddressesFeature>();
        foreach (string address in addresses?.Addresses ?? [])
        {
            Port = new Uri(address.Replace("*", "localhost", StringComparison.Ordinal)).Port;
            break;
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => _server.StopAsync(cancellationToken);

    private void GiveBack()
    {
        if (_ingest.TakeIdlePeak() >= GiveBackAfterBytes)
        {
            GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        }
    }

    public ValueTask DisposeAsync()
    {
        _giveBack.Dispose();
        _server.Dispose();
        _parallel.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>The address a configured host binds to (also used for the UDP listener).</summary>
    public static IPAddress BindAddress(string host) =>
        host is "localhost" ? IPAddress.Loopback
            : host is "*" or "+" ? IPAddress.Any
            : IPAddress.TryParse(host, out IPAddress? parsed) ? parsed
            : Dns.GetHostAddresses(host) is { Length: > 0 } resolved ? resolved[0]
            : throw new InvalidOperationException($"cannot resolve host '{host}'");

    private async Task HandleAsync(HttpContext context)
    {
        long started = Stopwatch.GetTimestamp();
        string path = context.Request.Path.Value ?? "/";
        string endpoint;
        if (Access is { } access && (path != HealthPath || access.ProtectHealth) && !await access.IsAllowedAsync(context.Request))
        {
            endpoint = path == _options.MetricsPath || path is HealthPath or ReadyPath or StatusPath or EventsPath or TargetsPath ? path : "other";
            context.Response.Headers.WWWAuthenticate = "Basic realm=\"aishell\", Bearer";
            await WriteText(context, 401, "unauthorized\n");
        }
        else if (path == _options.MetricsPath)
        {
            endpoint = _options.MetricsPath;
            await OnlyGet(context, ServeMetricsAsync);
        }
        else
        {
            switch (path)
            {
                case HealthPath:
                    endpoint = HealthPath;
                    await OnlyGet(context, static c => WriteText(c, 200, "ok\n"));
                    break;
                case ReadyPath:
                    endpoint = ReadyPath;
                    await OnlyGet(context, c => _pipeline.Ready ? WriteText(c, 200, "ready\n") : WriteText(c, 503, "not ready: first collection not folded yet\n"));
                    break;
                case StatusPath:
                    endpoint = StatusPath;
                    await OnlyGet(context, ServeStatusAsync);
                    break;
                case TargetsPath:
                    endpoint = TargetsPath;
                    await OnlyGet(context, ServeTargetsAsync);
                    break;
                case EventsPath:
                    endpoint = EventsPath;
                    await EventsEndpoint.ServeAsync(context, _options.Events, _options.MaxEventBodyBytes, _ingest);
                    break;
                case "/":
                    endpoint = "/";
                    await OnlyGet(context, ServeIndexAsync);
                    break;
                default:
                    endpoint = "other";
                    await WriteText(context, 404, "not found\n");
                    break;
            }
        }

        _http.Record(HttpSelfMetrics.Method(context.Request.Method), endpoint, context.Response.StatusCode,
            Stopwatch.GetElapsedTime(started).TotalSeconds);
    }

    private static Task OnlyGet(HttpContext context, Func<HttpContext, Task> handler)
    {
        if (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method))
        {
            return handler(context);
        }

        context.Response.Headers.Allow = "GET, HEAD";
        return WriteText(context, 405, "method not allowed\n");
    }

    /// <summary>
    /// When set and it returns a reason, <c>/metrics</c> answers 503 with it instead of the
    /// exposition (a cluster member that may have lost its databases to the others).
    /// </summary>
    public Func<string?>? MetricsWithheld { get; set; }

    private async Task ServeMetricsAsync(HttpContext context)
    {
        if (MetricsWithheld?.Invoke() is { } reason)
        {
            await WriteText(context, 503, reason);
            return;
        }

        long started = Stopwatch.GetTimestamp();
        ExpositionFormat format = ExpositionFormats.Negotiate(context.Request.Headers.Accept.ToString());
        (format == ExpositionFormat.OpenMetrics ? _openMetricsScrapes : _textScrapes).Add(1);
        ScrapeBuffer buffer = _buffers.Rent();
        try
        {
            HttpResponse response = context.Response;
            response.StatusCode = 200;
            response.ContentType = ExpositionFormats.ContentType(format);
            response.Headers.Vary = "Accept, Accept-Encoding";
            if (HttpMethods.IsHead(context.Request.Method))
            {
                return;
            }

            // Streamed in pieces of about ScrapeChunkBytes (chunked transfer encoding): a scrape
            // holds one small buffer whatever the registry's size, and sends what it wrote while
            // that is still in cache.
            GZipStream? gzip = null;
            if (AcceptsGzip(context.Request.Headers.AcceptEncoding.ToString()))
            {
                response.Headers.ContentEncoding = "gzip";
                gzip = new GZipStream(response.Body, CompressionLevel.Fastest, leaveOpen: true);
            }

            await using (gzip)
            {
                Stream body = gzip ?? response.Body;
                long sent = await _parallel.WriteAsync(buffer, _registry, format, body, ScrapeChunkBytes, context.RequestAborted);
                if (sent == 0 && gzip is null)
                {
                    response.ContentLength = buffer.Length; // it all fit in one piece
                }

                await body.WriteAsync(buffer.WrittenMemory, context.RequestAborted);
            }
        }
        finally
        {
            _buffers.Return(buffer);
            Interlocked.Exchange(ref _lastScrapeTicks, Stopwatch.GetElapsedTime(started).Ticks);
            Interlocked.Increment(ref _scrapes);
        }
    }

    private async Task ServeStatusAsync(HttpContext context)
    {
        var view = new StatusView(_options.Version, _options.Time.GetUtcNow() - _pipeline.StartedAt, _pipeline,
            _registry.SeriesCount, _registry.Families.Length,
            TimeSpan.FromTicks(Interlocked.Read(ref _lastScrapeTicks)).TotalSeconds, Interlocked.Read(ref _scrapes),
            _options.MetricsPath, Cluster?.Invoke());
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json; charset=utf-8";
        using var stream = new MemoryStream();
        await using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            StatusJson.Write(json, view);
        }

        stream.WriteByte((byte)'\n');
        await context.Response.Body.WriteAsync(stream.GetBuffer().AsMemory(0, (int)stream.Length), context.RequestAborted);
    }

    private Task ServeTargetsAsync(HttpContext context)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json; charset=utf-8";
        Discovery.DiscoveryTargets targets = Targets
            ?? new Discovery.DiscoveryTargets(Discovery.DiscoveryTargets.Advertise(null, _options.Host, Port), [], _options.MetricsPath);
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : context.Response.WriteAsync(targets.ToJson());
    }

    private Task ServeIndexAsync(HttpContext context) => WriteText(context, 200,
        $"AI-Shell Prometheus exporter {_options.Version}\nmetrics: {_options.MetricsPath}\nhealth: {HealthPath}\nready: {ReadyPath}\nstatus: {StatusPath}\nevents: POST {EventsPath}\ntargets (http_sd): {TargetsPath}\n");

    private static Task WriteText(HttpContext context, int status, string text)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : context.Response.WriteAsync(text);
    }

    internal static bool AcceptsGzip(ReadOnlySpan<char> acceptEncoding)
    {
        foreach (Range range in acceptEncoding.Split(','))
        {
            ReadOnlySpan<char> item = acceptEncoding[range].Trim();
            if (item.StartsWith("gzip", StringComparison.OrdinalIgnoreCase))
            {
                ReadOnlySpan<char> rest = item[4..].Trim();
                return !(rest.StartsWith(";", StringComparison.Ordinal) && rest.EndsWith("q=0", StringComparison.OrdinalIgnoreCase));
            }
        }

        return false;
    }
}
