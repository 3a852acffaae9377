using AiShell.Pipeline.Configuration;
using AiShell.Pipeline.Metrics;
using AiShell.Pipeline.Server.Discovery;

namespace AiShell.Cli;

/// <summary>
/// Re-reads the config on SIGHUP and when the file changes (checked every 2 s). An invalid new file
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
    private DateTime _stamp;

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
        _success.AddAtomic(0);
        _failure.AddAtomic(0);
        _lastOk = runtime.Registry.Register(MetricCatalog.ConfigLastReloadSuccessful).WithLabels();
        _lastOk.Set(1);
        _stamp = Stamp();
        _poll = new Timer(_ => { if (Stamp() != _stamp) { Reload("the file changed"); } }, null, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(2));
    }

    public void Reload(string why)
    {
        lock (_gate)
        {
            _stamp = Stamp();
            ExporterConfig next;
            try
            {
                next = ConfigLoader.Load(_cliPath);
                _overrides(next);
            }
            catch (ConfigException ex)
            {
                _failure.AddAtomic(1);
                _lastOk.Set(0);
                ExporterRuntime.Log($"config reload ({why}) failed, keeping the running config: {ex.Message}");
                return;
            }

            _runtime.Server.Access = ExporterRuntime.AccessFor(next);
            if (_runtime.Server.Targets is { } targets)
            {
                _runtime.Server.Targets = new DiscoveryTargets(targets.Self, next.DiscoveryPeers, targets.MetricsPath);
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
                _failure.AddAtomic(1);
                _lastOk.Set(0);
                _running = next;
                ExporterRuntime.Log($"config reload ({why}): databases not fully applied: {ex.Message}");
                return;
            }

            _running = next;
            _success.AddAtomic(1);
            _lastOk.Set(1);
            ExporterRuntime.Log($"config reloaded ({why}): access control, discovery peers{databases} applied" +
                (restart.Count == 0 ? "" : $"; after a restart: {string.Join(", ", restart)}"));
        }
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
            if (key.Path is "prometheus.web" or "prometheus.discovery.peers" or "prometheus.databases" || key.Path.StartsWith("prometheus.alerts.", StringComparison.Ordinal))
            {
                continue; // applied live, or only read by export-rules
            }

            Check(key.Path, key.Show(a), key.Show(b));
        }

        Check("prometheus.labels", string.Join(",", a.ConstantLabels), string.Join(",", b.ConstantLabels));
        Check("prometheus.buckets", string.Join(";", a.Buckets.Select(kv => kv.Key + "=" + string.Join(",", kv.Value))),
            string.Join(";", b.Buckets.Select(kv => kv.Key + "=" + string.Join(",", kv.Value))));
        return changed; // prometheus.databases: applied live (ApplyDatabasesAsync), labels excepted
    }

    private DateTime Stamp()
    {
        (string path, _) = ConfigLoader.Resolve(_cliPath);
        return File.Exists(path) ? File.GetLastWriteTimeUtc(path) : DateTime.MinValue;
    }

    public void Dispose() => _poll.Dispose();
}
