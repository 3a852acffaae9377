using AiShell.Pipeline.Configuration;
using AiShell.Pipeline.Metrics;
using AiShell.Pipeline.Server.Discovery;

namespace AiShell.Cli.Runtime;

/// <summary>
/// Re-reads the config on SIGHUP and when the file changes. A changed file is read only once its
/// size and modification time have held still for <see cref="Settle"/>, so a file written in pieces
/// is not read half-way; an empty file or an empty <c>prometheus:</c> section is refused as
/// incomplete. A file change alone never weakens <c>prometheus.web</c> (access control or TLS
/// removed, <c>/healthz</c> opened): such a reload is held, logged as a warning naming what it would
/// weaken, and counted as failed until SIGHUP or a restart applies it. An invalid new file
/// is reported (log line, <c>aishell_config_last_reload_successful 0</c>, a failure in
/// <c>aishell_config_reloads_total</c>) and the running config stays. A valid one is applied where
/// that is safe while serving: access control (users, tokens), discovery peers, and the databases
/// (entries added, removed or changed start and stop their collectors). Settings that shape the
/// listener or the series are reported as needing a restart. No counter is lost either way: the
/// registry is never rebuilt. Reloads run one at a time, on a thread-pool thread.
/// </summary>
internal sealed class ConfigReloader : IDisposable
{
    private readonly string? _cliPath;
    private readonly Action<ExporterConfig> _overrides;
    private readonly ExporterRuntime _runtime;
    private readonly Lock _gate = new();
    private readonly Timer _poll;
    private readonly Series _success, _failure, _lastOk;
    private ExporterConfig _running;
    private FileStamp _read;   // the file as last read
    private FileStamp _seen;   // the file as last polled
    private long _seenSince;   // since when (Environment.TickCount64) the file looked like _seen

    /// <summary>How long a changed file must stay unchanged before it is read.</summary>
    internal static readonly TimeSpan Settle = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan PollEvery = TimeSpan.FromMilliseconds(250);

    private readonly record struct FileStamp(long Length, DateTime Modified);

    /// <param name="overrides">The command line's --port/--host/--path, applied to every reloaded config too.</param>
    public ConfigReloader(string? cliPath, ExporterConfig running, ExporterRuntime runtime, Action<ExporterConfig> overrides)
    {
        _cliPath = cliPath;
        _overrides = overrides;
        _running = running;
        _runtime = runtime;
        MetricFamily reloads = runtime.Registry.Register(MetricCatalog.ConfigReloadsTotal);
        _success = reloads.WithLabels("success");
        _failure = reloads.WithLabels("failure");
        _success.Add(0);
        _failure.Add(0);
        _lastOk = runtime.Registry.Register(MetricCatalog.ConfigLastReloadSuccessful).WithLabels();
        _lastOk.Set(1);
        _read = _seen = Stamp();
        _poll = new Timer(_ => Poll(), null, PollEvery, PollEvery);
    }

    /// <summary>Reloads after a change once the file has settled; skipped while a reload runs.</summary>
    private void Poll()
    {
        if (!_gate.TryEnter())
        {
            return;
        }

        bool settled;
        try
        {
            FileStamp now = Stamp();
            long tick = Environment.TickCount64;
            if (now != _seen)
            {
                _seen = now;
                _seenSince = tick;
            }

            settled = now != _read && tick - _seenSince >= (long)Settle.TotalMilliseconds;
        }
        finally
        {
            _gate.Exit();
        }

        if (settled)
        {
            Reload("the file changed", fromSignal: false, onlyIfUnread: true);
        }
    }

    /// <param name="fromSignal">SIGHUP: the operator asked, so a weakening of prometheus.web is applied (with a warning).</param>
    /// <param name="onlyIfUnread">
    /// The watcher's reload: skipped when the file as it is now was already read (a SIGHUP between
    /// the watcher's check and this call read it; one change is one reload).
    /// </param>
    public void Reload(string why, bool fromSignal, bool onlyIfUnread = false)
    {
        lock (_gate)
        {
            FileStamp stamp = Stamp();
            if (onlyIfUnread && stamp == _read)
            {
                return;
            }

            _read = stamp;
            ExporterConfig next;
            try
            {
                next = ExporterRuntime.LoadConfig(_cliPath);
                _overrides(next);
            }
            catch (ConfigException ex)
            {
                Fail($"config reload ({why}) failed, keeping the running config: {ex.Message}");
                return;
            }

            List<string> weakened = _running.Web.WeakenedBy(next.Web);
            if (weakened.Count > 0)
            {
                if (!fromSignal)
                {
                    Fail($"warning: config reload ({why}) held, keeping the running config: it weakens prometheus.web: " +
                        $"{string.Join("; ", weakened)}. A file change alone never weakens access; send SIGHUP or restart to apply it");
                    return;
                }

                ExporterRuntime.Log($"warning: config reload ({why}) weakens prometheus.web: {string.Join("; ", weakened)}");
            }

            _runtime.Server.Access = ExporterRuntime.AccessFor(next);
            _runtime.ApplyGroups(next);
            if (_runtime.Server.Targets is { } targets)
            {
                _runtime.Server.Targets = new DiscoveryTargets(targets.Self, next.DiscoveryPeers, targets.MetricsPath) { Members = targets.Members };
            }

            List<string> restart = RestartOnly(_running, next);
            string databases;
            try
            {
                (List<string> applied, List<string> labels) = _runtime.ApplyDatabasesAsync(next, CancellationToken.None).GetAwaiter().GetResult();
                restart.AddRange(labels);
                databases = applied.Count == 0 ? "" : $", databases {string.Join(" ", applied)}";
            }
            catch (Exception ex) when (ex is ConfigException or TimeoutException or IOException)
            {
                // A new entry that cannot be used (an unreadable password file, say): what could be
                // applied is, the entry is reported, and the next reload tries again.
                _running = next;
                Fail($"config reload ({why}): databases not fully applied: {ex.Message}");
                return;
            }

            _running = next;
            _success.Add(1);
            _lastOk.Set(1);
            ExporterRuntime.Log($"config reloaded ({why}): access control, discovery peers, metric groups{databases} applied" +
                (restart.Count == 0 ? "" : $"; after a restart: {string.Join(", ", restart)}"));
        }
    }

    private void Fail(string message)
    {
        _failure.Add(1);
        _lastOk.Set(0);
        ExporterRuntime.Log(message);
    }

    /// <summary>Settings read only at start: listener, series shape, host collector, ingest.</summary>
    private static List<string> RestartOnly(ExporterConfig a, ExporterConfig b)
    {
        var changed = new List<string>();
        void Check(string key, string x, string y)
        {
            if (x != y)
            {
                changed.Add(key);
            }
        }

        foreach (ConfigKey key in ConfigKeys.Fixed)
        {
            if (key.Path is "prometheus.web" or "prometheus.discovery.peers" or "prometheus.databases"
                or "prometheus.metrics.queries" or "prometheus.metrics.connections" or "prometheus.metrics.performance"
                || key.Path.StartsWith("prometheus.alerts.", StringComparison.Ordinal))
            {
                continue; // applied live, or only read by export-rules
            }

            Check(key.Path, key.Show(a), key.Show(b));
        }

        Check("prometheus.web.tls_server_config", $"{a.Web.TlsCertFile}|{a.Web.TlsKeyFile}", $"{b.Web.TlsCertFile}|{b.Web.TlsKeyFile}");
        Check("prometheus.labels", string.Join(",", a.ConstantLabels), string.Join(",", b.ConstantLabels));
        Check("prometheus.buckets", string.Join(";", a.Buckets.Select(kv => kv.Key + "=" + string.Join(",", kv.Value))),
            string.Join(";", b.Buckets.Select(kv => kv.Key + "=" + string.Join(",", kv.Value))));
        return changed; // prometheus.databases: applied live (ApplyDatabasesAsync), labels excepted
    }

    private FileStamp Stamp()
    {
        (string path, _) = ConfigLoader.Resolve(_cliPath);
        var file = new FileInfo(path);
        return file.Exists ? new FileStamp(file.Length, file.LastWriteTimeUtc) : new FileStamp(-1, DateTime.MinValue);
    }

    public void Dispose() => _poll.Dispose();
}
