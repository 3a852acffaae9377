using AiShell.Pipeline.Actors;
using AiShell.Pipeline.Actors.Cluster;
using AiShell.Pipeline.Collectors;
using AiShell.Pipeline.Collectors.Host;
using AiShell.Pipeline.Collectors.Postgres;
using AiShell.Pipeline.Configuration;
using AiShell.Pipeline.Ingest;
using AiShell.Pipeline.Metrics;
using AiShell.Pipeline.Metrics.Flow;
using AiShell.Pipeline.Server;

namespace AiShell.Cli.Runtime;

/// <summary>
/// Everything `prometheus start` runs, composed from config: registry, collectors, pipeline, server.
/// </summary>
internal sealed class ExporterRuntime : IAsyncDisposable, IDatabaseOwner
{
    private readonly List<IAsyncDisposable> _owned;
    private readonly Dictionary<string, DatabaseEntry> _databases; // by entry name
    private readonly QuerySources _querySources;
    private readonly MetricGroups _groups;

    /// <summary>A <c>prometheus.databases</c> entry as running: its settings and its collectors (several with auto_discover).</summary>
    private sealed record DatabaseEntry(string Fingerprint, List<PostgresCollector> Collectors);

    // Cluster mode: the databases every member knows (this member collects those sharding gives it),
    // and one queue for taking and letting go of them, in the order sharding decided.
    private ExporterConfig _config;
    private DatabaseCluster? _cluster;
    private readonly SemaphoreSlim _ownership = new(1, 1);
    private readonly HashSet<string> _owns = new(StringComparer.Ordinal); // what sharding gave this member, under _ownership
    private int _retryPending;
    private string[] _collecting = []; // the databases this member collects now, for /api/v1/status
    private Series? _databasesOwned;   // aishell_cluster_databases_owned
    private Series? _rebalances;       // aishell_cluster_rebalances_total
    private bool _removed;

    private ExporterRuntime(ExporterConfig config, MetricRegistry registry, MetricsPipeline pipeline, ExporterServer server, EventIngestor events,
        EventRecorder recorder, UdpIngestListener? udp, List<IAsyncDisposable> owned, Dictionary<string, DatabaseEntry> databases,
        QuerySources querySources, MetricGroups groups)
    {
        _config = config;
        Registry = registry;
        Pipeline = pipeline;
        Server = server;
        Events = events;
        Recorder = recorder;
        Udp = udp;
        _owned = owned;
        _databases = databases;
        _querySources = querySources;
        _groups = groups;
    }

    /// <summary>prometheus.metrics.queries, .connections and .performance, applied at once (a reload).</summary>
    public void ApplyGroups(ExporterConfig config) =>
        _groups.Apply(Registry, config.MetricsQueries, config.MetricsConnections, config.MetricsPerformance);

    public EventIngestor Events { get; }

    /// <summary>The in-process API (the load-test harness records through it).</summary>
    public EventRecorder Recorder { get; }

    public UdpIngestListener? Udp { get; }

    /// <summary>What was accepted and whether all of it was folded before exit (pending must be 0).</summary>
    private string ShutdownSummary()
    {
        MetricFamily? received = Registry.Find(Registry.Options.Prefix + "_" + MetricCatalog.EventsReceivedTotal.Name);
        double Source(string s) => received?.WithLabels(s).Value ?? 0;
        return string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"✓ Folded everything accepted: http={Source(IngestSources.Http)} udp={Source(IngestSources.Udp)} inprocess={Source(IngestSources.InProcess)} events; pending samples {Pipeline.Channels.Pending}");
    }

    /// <summary>
    /// The config to run: the file's own problems and those of what it points at (certificates,
    /// password and token files, connection strings), all reported at once.
    /// </summary>
    public static ExporterConfig LoadConfig(string? cliPath) =>
        ConfigLoader.Load(cliPath, static c => ConfigChecks.Run(c, PostgresDataSource.ConnectionStringProblem));

    public static Pipeline.Server.Security.AccessControl? AccessFor(ExporterConfig config) =>
        config.Web.RequiresAuth
            ? new Pipeline.Server.Security.AccessControl(config.Web.BasicAuthUsers, config.Web.BearerTokens, config.Web.BearerTokenFile, config.Web.ProtectHealth, Log)
            : null;

    private static Pipeline.Server.Security.TlsCertificates? LoadTls(ExporterConfig config)
    {
        if (config.Web.TlsCertFile is not { } cert || config.Web.TlsKeyFile is not { } key)
        {
            return null;
        }

        if (ConfigChecks.TlsProblem(cert, key) is { } problem)
        {
            throw new ConfigException([config.ErrorAt("prometheus.web.tls_server_config." + problem.Field, problem.Reason)]);
        }

        return new Pipeline.Server.Security.TlsCertificates(cert, key, Log);
    }

    /// <summary>
    /// prometheus.max_connections, lowered to the open-file limit less 256 when that is smaller: the
    /// process keeps files for PostgreSQL connections, /proc reads and the UDP socket however many
    /// clients connect (20,500 idle connections against a 20,000 limit stopped every endpoint and
    /// the host collector).
    /// </summary>
    private static int ConnectionCap(int configured)
    {
        const int Reserve = 256;
        long limit = OpenFileLimit();
        if (limit <= 0 || configured <= limit - Reserve)
        {
            return configured;
        }

        int cap = (int)Math.Max(16, limit - Reserve);
        Log($"prometheus.max_connections {configured} lowered to {cap}: the open-file limit is {limit} (ulimit -n)");
        return cap;
    }

    /// <summary>The soft RLIMIT_NOFILE from /proc/self/limits ("Max open files  20000  20000  files"); 0 when unknown.</summary>
    private static long OpenFileLimit()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/limits"))
            {
                if (line.StartsWith("Max open files", StringComparison.Ordinal))
                {
                    string[] fields = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    return fields.Length > 0 && long.TryParse(fields[0], out long soft) ? soft : 0;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // not Linux, or /proc hidden: no limit known, the configured cap stands
        }

        return 0;
    }

    /// <summary>Custom metrics fed by events: the declared ones without a SQL query.</summary>
    private static List<CustomEventMetric> CustomEventMetrics(ExporterConfig config) =>
        !config.MetricsCustom ? []
            : config.CustomMetrics.Where(m => m.Query is null)
                .Select(m => new CustomEventMetric(m.DeclaredName, m.Type, m.Help, m.Labels, m.Buckets, m.Name)).ToList();

    /// <summary>Operational messages (collector failures, discovery) go to stderr with a UTC timestamp.</summary>
    public static void Log(string message) =>
        Console.Error.WriteLine($"{DateTime.UtcNow:yyyy-MM-ddTHH:mm:ss.fffZ} aishell: {message}");

    public MetricRegistry Registry { get; }

    public MetricsPipeline Pipeline { get; }

    public ExporterServer Server { get; }

    public static async Task<ExporterRuntime> StartAsync(ExporterConfig config, CancellationToken cancellationToken, bool debugLog = false)
    {
        var registry = new MetricRegistry(config.ToMetricOptions());
        registry.Register(MetricCatalog.ExporterBuildInfo).WithLabels(BuildInfo.Version).Set(1);
        registry.Register(MetricCatalog.ExporterStartTime).WithLabels()
            .Set(TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0);

        var collectors = new List<ICollector>();
        if (config.MetricsSystem && OperatingSystem.IsLinux() && File.Exists("/proc/stat"))
        {
            collectors.Add(new HostCollector());
        }

        if (OperatingSystem.IsLinux() && File.Exists("/proc/self/statm"))
        {
            collectors.Add(new ProcessCollector());
        }

        var querySources = new QuerySources();
        var groups = new MetricGroups();
        groups.Apply(registry, config.MetricsQueries, config.MetricsConnections, config.MetricsPerformance);
        var owned = new List<IAsyncDisposable>();
        var databases = new Dictionary<string, DatabaseEntry>(StringComparer.Ordinal);
        foreach (DatabaseConfig entry in config.ClusterEnabled ? [] : config.Databases) // a member collects what sharding gives it
        {
            List<PostgresCollector> entryCollectors = await CollectorsForAsync(config, entry, querySources, groups, cancellationToken);
            databases[entry.Name] = new DatabaseEntry(entry.Fingerprint(), entryCollectors);
            collectors.AddRange(entryCollectors);
            owned.AddRange(entryCollectors);
        }

        MetricsPipeline pipeline;
        try
        {
            pipeline = MetricsPipeline.Start(registry, collectors, new PipelineOptions
            {
                CollectInterval = config.CollectInterval,
                MaxPendingSamples = config.MaxPendingSamples,
                // Reconnects back off from 1 s, doubling, up to two intervals (at most 60 s).
                MaxBackoff = TimeSpan.FromSeconds(Math.Clamp(config.CollectInterval.TotalSeconds * 2, 1, 60)),
                Log = Log,
                LogStackTraces = debugLog,
                Cluster = config.ClusterEnabled ? ClusterOptionsFor(config) : null,
            });
        }
        catch (Exception ex) when (config.ClusterEnabled && SocketError(ex) is { } socket)
        {
            // Remoting's bind failure arrives wrapped five AggregateExceptions deep.
            throw new ClusterListenException($"cannot listen on the cluster's remoting port {config.ClusterHost}:{config.ClusterPort}: {socket.Message}", ex);
        }

        var schema = new EventSchema(registry, config.SlowQueryThresholds, CustomEventMetrics(config), querySources, groups: groups);
        var events = new EventIngestor(registry, schema, pipeline.Channels);
        var recorder = new EventRecorder(events);
        ExporterServer? server = null;
        UdpIngestListener? udp = null;
        try
        {
            if (config.IngestUdpPort > 0)
            {
                udp = new UdpIngestListener(events, ExporterServer.BindAddress(config.Host), config.IngestUdpPort, config.Prefix, registry,
                    config.IngestUdpReceiveBufferBytes, config.IngestUdpAllow, Log);
                udp.Start();
                if (config.Web.RequiresAuth && config.IngestUdpAllow.Count == 0)
                {
                    Log("warning: prometheus.web requires credentials, but DogStatsD on UDP port " +
                        $"{config.IngestUdpPort} takes events from any sender (UDP carries no credentials); " +
                        "limit it with prometheus.ingest.udp_allow");
                }
            }

            server = ExporterServer.Create(registry, new PipelineStatusView(pipeline.Status), new ServerOptions
            {
                Host = config.Host,
                Port = config.Port,
                MetricsPath = config.Path,
                Version = BuildInfo.Version,
                Events = config.IngestHttp ? events : null,
                MaxEventBodyBytes = config.IngestMaxBodyBytes,
                MaxInflightBytes = config.IngestMaxInflightBytes,
                MaxConnections = ConnectionCap(config.MaxConnections),
                Access = AccessFor(config),
                Tls = LoadTls(config),
            });
            await server.StartAsync(cancellationToken);
            var runtime = new ExporterRuntime(config, registry, pipeline, server, events, recorder, udp, owned, databases, querySources, groups);
            if (config.ClusterEnabled)
            {
                runtime._databasesOwned = registry.Register(MetricCatalog.ClusterDatabasesOwned).WithLabels();
                runtime._rebalances = registry.Register(MetricCatalog.ClusterRebalancesTotal).WithLabels();
                runtime._databasesOwned.Set(0);
                runtime._rebalances.Add(0);
                runtime._cluster = DatabaseCluster.Start(pipeline, runtime, config.CollectInterval, config.ClusterDownAfter,
                    () => [.. runtime._config.Databases.Select(static d => d.Name)], runtime.OnRemovedFromCluster);
                server.MetricsWithheld = runtime._cluster.Withheld;
                DatabaseCluster member = runtime._cluster;
                server.Cluster = () => new ClusterStatus(config.ClusterName, member.Self,
                    [.. member.Members().Select(static m => new ClusterMemberStatus(m.Address, m.Http, m.Status))], Volatile.Read(ref runtime._collecting));
            }

            return runtime;
        }
        catch
        {
            if (server is not null)
            {
                await server.DisposeAsync();
            }

            if (udp is not null)
            {
                await udp.DisposeAsync();
            }

            recorder.Dispose();

            await pipeline.StopAsync(TimeSpan.FromSeconds(5));
            foreach (IAsyncDisposable item in owned)
            {
                await item.DisposeAsync();
            }

            throw;
        }
    }

    /// <summary>
    /// This host's canonical name (what <c>hostname -f</c> prints): a StatefulSet pod's
    /// <c>NAME-N.SERVICE.NAMESPACE.svc.cluster.local</c>, the name the other members' `seed_nodes` use.
    /// The bare host name when it does not resolve.
    /// </summary>
    private static string FullyQualifiedHostName()
    {
        string name = System.Net.Dns.GetHostName();
        try
        {
            return System.Net.Dns.GetHostEntry(name).HostName is { Length: > 0 } canonical ? canonical : name;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return name;
        }
    }

    private static System.Net.Sockets.SocketException? SocketError(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (ex is System.Net.Sockets.SocketException socket)
            {
                return socket;
            }

            if (ex is AggregateException { InnerExceptions.Count: > 0 } all)
            {
                return all.InnerExceptions.Select(SocketError).FirstOrDefault(static e => e is not null);
            }
        }

        return null;
    }

    /// <summary>The cluster member this runtime is (null on a single node).</summary>
    public DatabaseCluster? Cluster => _cluster;

    /// <summary>
    /// Runs when the others removed this member without it leaving (it was unreachable, or frozen,
    /// past down_after): it has already let its databases go; the start command exits so that a
    /// supervisor starts it again as a new member.
    /// </summary>
    public event Action? RemovedFromCluster;

    /// <summary>True once the others removed this member or it found it had been frozen (see <see cref="RemovedFromCluster"/>).</summary>
    public bool RemovedByCluster => Volatile.Read(ref _removed);

    private void OnRemovedFromCluster()
    {
        Volatile.Write(ref _removed, true);
        _ = ReconcileAsync(); // stops everything: its databases may run elsewhere already
        RemovedFromCluster?.Invoke();
    }

    private async Task ReconcileAsync()
    {
        await _ownership.WaitAsync();
        try
        {
            await ReconcileLockedAsync();
        }
        finally
        {
            _ownership.Release();
        }
    }

    private static ClusterOptions ClusterOptionsFor(ExporterConfig config)
    {
        if (config.Port == 0)
        {
            throw new ConfigException("prometheus.cluster: a cluster member needs a fixed prometheus.port (the other members list it in /api/v1/targets), not 0");
        }

        string publicHost = config.ClusterPublicHost is { Length: > 0 } p ? p
            : config.ClusterHost is "0.0.0.0" or "::" ? FullyQualifiedHostName() : config.ClusterHost;
        string http = AiShell.Pipeline.Server.Discovery.DiscoveryTargets.Advertise(config.DiscoveryAdvertise, config.Host, config.Port);
        return new ClusterOptions(config.ClusterName, config.ClusterHost, publicHost, config.ClusterPort, config.ClusterSeedNodes,
            config.ClusterDownAfter, http);
    }

    void IDatabaseOwner.Acquire(string database) => _ = ChangeOwnershipAsync(database, owns: true);

    void IDatabaseOwner.Release(string database) => _ = ChangeOwnershipAsync(database, owns: false);

    /// <summary>
    /// Records what sharding moved onto or off this member, one change at a time in the order they
    /// came, and makes the running collectors match it.
    /// </summary>
    private async Task ChangeOwnershipAsync(string database, bool owns)
    {
        await _ownership.WaitAsync();
        try
        {
            bool changed = owns ? _owns.Add(database) : _owns.Remove(database);
            if (changed)
            {
                _rebalances!.Add(1);
            }

            await ReconcileLockedAsync();
        }
        finally
        {
            _ownership.Release();
        }
    }

    /// <summary>
    /// Cluster mode's one rule, applied after every ownership change and every reload: this member
    /// collects exactly the databases it owns that its config has, each with the settings the config
    /// has now. A database that fails to start (an unreadable password file, a name that does not
    /// resolve) is tried again a collect interval later. Returns what it started (+) and stopped (-).
    /// Call with <see cref="_ownership"/> held.
    /// </summary>
    private async Task<List<string>> ReconcileLockedAsync()
    {
        var changes = new List<string>();
        var wanted = new Dictionary<string, DatabaseConfig>(StringComparer.Ordinal);
        foreach (DatabaseConfig entry in _config.Databases)
        {
            if (_owns.Contains(entry.Name) && SameLabels(entry) && !_removed)
            {
                wanted[entry.Name] = entry;
            }
        }

        foreach ((string name, DatabaseEntry running) in _databases.ToList())
        {
            if (!wanted.TryGetValue(name, out DatabaseConfig? entry) || entry.Fingerprint() != running.Fingerprint)
            {
                await StopDatabaseAsync(name);
                changes.Add($"-{name}");
                Log($"cluster: no longer collecting database {name} on this member");
            }
        }

        bool failed = false;
        foreach (DatabaseConfig entry in wanted.Values)
        {
            if (_databases.ContainsKey(entry.Name))
            {
                continue;
            }

            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                await StartDatabaseAsync(_config, entry, timeout.Token);
                changes.Add($"+{entry.Name}");
                Log($"cluster: collecting database {entry.Name} on this member");
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                failed = true;
                Log($"cluster: could not start collecting database {entry.Name} (trying again in {_config.CollectInterval.TotalSeconds:0.#} s): {ex.Message}");
            }
        }

        _databasesOwned!.Set(_databases.Count);
        string[] collecting = [.. _databases.Keys];
        Array.Sort(collecting, StringComparer.Ordinal);
        Volatile.Write(ref _collecting, collecting);
        if (failed && Interlocked.Exchange(ref _retryPending, 1) == 0)
        {
            _ = RetryAsync();
        }

        return changes;
    }

    private async Task RetryAsync()
    {
        await Task.Delay(_config.CollectInterval);
        Volatile.Write(ref _retryPending, 0);
        await ReconcileAsync();
    }

    private async Task StopDatabaseAsync(string name)
    {
        if (!_databases.TryGetValue(name, out DatabaseEntry? running))
        {
            return;
        }

        List<PostgresCollector> collectors = running.Collectors;
        await Pipeline.RemoveCollectorsAsync(collectors, TimeSpan.FromSeconds(30));
        foreach (PostgresCollector collector in collectors)
        {
            _owned.Remove(collector);
            await collector.DisposeAsync();
        }

        _databases.Remove(name);
    }

    private async Task StartDatabaseAsync(ExporterConfig config, DatabaseConfig entry, CancellationToken cancellationToken)
    {
        List<PostgresCollector> collectors = await CollectorsForAsync(config, entry, _querySources, _groups, cancellationToken);
        _owned.AddRange(collectors);
        _databases[entry.Name] = new DatabaseEntry(entry.Fingerprint(), collectors);
        Pipeline.AddCollectors(collectors);
    }

    private static async Task<List<PostgresCollector>> CollectorsForAsync(ExporterConfig config, DatabaseConfig entry,
        QuerySources querySources, MetricGroups groups, CancellationToken cancellationToken)
    {
        var collectors = new List<PostgresCollector>();
        foreach (PostgresTargetOptions target in await PostgresTargets.ResolveAsync(config, [entry], Log, cancellationToken))
        {
            querySources.SetMode(target.Name, entry.QuerySource);
            collectors.Add(new PostgresCollector(target, querySources, Log, groups: groups));
        }

        return collectors;
    }

    /// <summary>
    /// Applies a reloaded <c>prometheus.databases</c>: entries that are gone (or changed) stop being
    /// collected and their series leave the exposition; new (or changed) entries start. Counters are
    /// never reset. An entry whose <c>labels</c> differ from the ones the series were built with needs
    /// a restart and is left as it runs. Returns what changed and what still needs a restart.
    /// </summary>
    public async Task<(List<string> Applied, List<string> RestartOnly)> ApplyDatabasesAsync(ExporterConfig next, CancellationToken cancellationToken)
    {
        if (_cluster is not null)
        {
            return await ApplyClusterDatabasesAsync(next, cancellationToken);
        }

        var applied = new List<string>();
        var restartOnly = new List<string>();
        var wanted = next.Databases.ToDictionary(static d => d.Name, StringComparer.Ordinal);
        var remove = new List<string>();
        var add = new List<DatabaseConfig>();
        foreach ((string name, DatabaseEntry running) in _databases)
        {
            if (!wanted.TryGetValue(name, out DatabaseConfig? entry))
            {
                remove.Add(name);
            }
            else if (entry.Fingerprint() != running.Fingerprint)
            {
                if (!SameLabels(entry))
                {
                    restartOnly.Add($"prometheus.databases[{name}].labels");
                    continue;
                }

                remove.Add(name);
                add.Add(entry);
            }
        }

        foreach (DatabaseConfig entry in next.Databases)
        {
            if (!_databases.ContainsKey(entry.Name))
            {
                if (SameLabels(entry))
                {
                    add.Add(entry);
                }
                else
                {
                    restartOnly.Add($"prometheus.databases[{entry.Name}].labels");
                }
            }
        }

        await _ownership.WaitAsync(cancellationToken);
        try
        {
            _config = next;
            foreach (string name in remove)
            {
                await StopDatabaseAsync(name);
                applied.Add($"-{name}");
            }

            foreach (DatabaseConfig entry in add)
            {
                await StartDatabaseAsync(next, entry, cancellationToken);
                applied.Add($"+{entry.Name}");
            }
        }
        finally
        {
            _ownership.Release();
        }

        return (applied, restartOnly);
    }

    /// <summary>
    /// A cluster member's reload: the new list is every member's list; this member then collects
    /// what it owns of it (a new database starts wherever sharding puts it at the next tick). Labels
    /// need a restart, as on a single node.
    /// </summary>
    private async Task<(List<string> Applied, List<string> RestartOnly)> ApplyClusterDatabasesAsync(ExporterConfig next, CancellationToken cancellationToken)
    {
        var restartOnly = new List<string>();
        foreach (DatabaseConfig entry in next.Databases)
        {
            if (!SameLabels(entry))
            {
                restartOnly.Add($"prometheus.databases[{entry.Name}].labels");
            }
        }

        await _ownership.WaitAsync(cancellationToken);
        try
        {
            _config = next;
            return (await ReconcileLockedAsync(), restartOnly);
        }
        finally
        {
            _ownership.Release();
        }
    }

    /// <summary>True when the entry's labels are the ones the registry adds to that database's series.</summary>
    private bool SameLabels(DatabaseConfig entry)
    {
        IReadOnlyList<KeyValuePair<string, string>> known = Registry.Options.DatabaseLabels.TryGetValue(entry.Name, out var labels) ? labels : [];
        return known.SequenceEqual(entry.Labels);
    }

    /// <summary>
    /// Stops taking requests and datagrams, hands over what the in-process recorder holds, then stops
    /// collecting and folds everything already accepted.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (_cluster is not null)
        {
            // Hand this member's databases over first: the others start them at their next tick.
            await _cluster.LeaveAsync(TimeSpan.FromSeconds(15));
            await _ownership.WaitAsync(); // the ownership changes the leave queued have run; no more start
        }

        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
        {
            await Server.StopAsync(cts.Token);
        }

        await Server.DisposeAsync();
        if (Udp is not null)
        {
            await Udp.DisposeAsync();
        }

        Recorder.Dispose();
        await Pipeline.StopAsync(TimeSpan.FromSeconds(5));
        Console.WriteLine(ShutdownSummary());
        foreach (IAsyncDisposable item in _owned.ToArray()) // a snapshot: a reload may still be changing the list
        {
            await item.DisposeAsync();
        }
    }
}

/// <summary>The cluster's remoting port could not be bound (in use, or an address this host does not have).</summary>
internal sealed class ClusterListenException(string message, Exception inner) : Exception(message, inner);
