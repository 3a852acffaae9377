using System.Net;
using System.Net.Http.Headers;
using System.Text;
using AiShell.Pipeline.IntegrationTests.Harness;

namespace AiShell.Pipeline.IntegrationTests;

/// <summary>
/// A config file caught half-written (truncated, cut after <c>prometheus:</c>, or rewritten in two
/// pieces with a pause) never switches access control off: an unauthenticated request sampled every
/// 50 ms during and after the rewrite always gets 401.
/// </summary>
public sealed class ReloadHardeningTests
{
    private const string Token = "reload-hardening-token-0123456789";

    /// <summary>Access control last, as a file written top to bottom gets it last.</summary>
    private const string Head = "prometheus:\n  collect_interval: 1\n  ingest:\n    http: true\n";
    private const string Tail = $"  web:\n    bearer_tokens: ['{Token}']\n    protect_health: true\n";

    /// <summary>Unauthenticated GETs of /metrics and POSTs of an event, every 50 ms, until stopped.</summary>
    private sealed class Sampler : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;
        private readonly List<(string What, HttpStatusCode Status)> _seen = [];

        public Sampler(ExporterProcess exporter)
        {
            _loop = Task.Run(async () =>
            {
                using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
                while (!_stop.IsCancellationRequested)
                {
                    HttpStatusCode get = (await http.GetAsync(exporter.MetricsUrl)).StatusCode;
                    HttpStatusCode post = (await http.PostAsync(new Uri(exporter.BaseUrl, "/api/v1/events"),
                        new StringContent("{\"kind\":\"feature\",\"feature\":\"sneaked\"}\n"))).StatusCode;
                    lock (_seen)
                    {
                        _seen.Add(("GET /metrics", get));
                        _seen.Add(("POST /api/v1/events", post));
                    }

                    await Task.Delay(50);
                }
            });
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _loop;
            Assert.True(_seen.Count >= 40, $"only {_seen.Count} samples");
            Assert.All(_seen, s => Assert.True(s.Status == HttpStatusCode.Unauthorized, $"{s.What} answered {(int)s.Status} without credentials"));
            _stop.Dispose();
        }
    }

    private static async Task<string> ScrapeAsync(ExporterProcess exporter)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, exporter.MetricsUrl);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        return await (await http.SendAsync(request)).Content.ReadAsStringAsync();
    }

    private static async Task UntilLoggedAsync(ExporterProcess exporter, string text)
    {
        for (int i = 0; i < 100 && !exporter.Stderr.Contains(text, StringComparison.Ordinal); i++)
        {
            await Task.Delay(100);
        }

        Assert.Contains(text, exporter.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "the file is empty")]
    [InlineData("prometheus:\n", "the section is empty")]
    public async Task AnEmptyOrBareFile_IsAFailedReload_AndAccessControlStays(string written, string reason)
    {
        await using ExporterProcess exporter = await ExporterProcess.StartAsync(Head + Tail);
        string file = Path.Combine(exporter.Home, "exporter.yaml");
        await using (new Sampler(exporter))
        {
            await File.WriteAllTextAsync(file, written);
            await UntilLoggedAsync(exporter, reason);
            await Task.Delay(1500); // samples after the reload too
        }

        string text = await ScrapeAsync(exporter);
        Assert.Equal(0, Exposition.Value(text, "aishell_config_last_reload_successful"));
        Assert.True(Exposition.Value(text, "aishell_config_reloads_total{result=\"failure\"}") >= 1);
        Assert.Equal(0, Exposition.Value(text, "aishell_config_reloads_total{result=\"success\"}"));
        Assert.False(Exposition.Has(text, "aishell_feature_usage_total"), "nothing sneaked in");
    }

    [Fact]
    public async Task ANonAtomicRewriteOfTheSameContent_NeverOpensTheDoor_AndThenApplies()
    {
        await using ExporterProcess exporter = await ExporterProcess.StartAsync(Head + Tail);
        string file = Path.Combine(exporter.Home, "exporter.yaml");
        await using (new Sampler(exporter))
        {
            await using (var stream = new FileStream(file, FileMode.Create, FileAccess.Write, FileShare.ReadWrite))
            {
                await stream.WriteAsync(Encoding.UTF8.GetBytes(Head));
                await stream.FlushAsync();
                // Longer than the settle time: the watcher reads the first half, a valid config
                // without prometheus.web, and must hold it.
                await UntilLoggedAsync(exporter, "held, keeping the running config: it weakens prometheus.web: access control removed");
                await stream.WriteAsync(Encoding.UTF8.GetBytes(Tail));
            }

            await UntilLoggedAsync(exporter, "config reloaded (the file changed)");
            await Task.Delay(1000);
        }

        string text = await ScrapeAsync(exporter);
        Assert.Equal(1, Exposition.Value(text, "aishell_config_last_reload_successful"));
        Assert.Equal(1, Exposition.Value(text, "aishell_config_reloads_total{result=\"failure\"}"));
        Assert.Equal(1, Exposition.Value(text, "aishell_config_reloads_total{result=\"success\"}"));
        Assert.Contains("warning: config reload", exporter.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RemovingAccessControl_NeedsSighup_AndIsLoggedAsAWarning()
    {
        await using ExporterProcess exporter = await ExporterProcess.StartAsync(Head + Tail);
        string file = Path.Combine(exporter.Home, "exporter.yaml");
        using var http = new HttpClient();
        await File.WriteAllTextAsync(file, Head);
        await UntilLoggedAsync(exporter, "held, keeping the running config");
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync(exporter.MetricsUrl)).StatusCode);

        ProcessRunner.Signal(exporter.Process, 1); // SIGHUP: the operator means it
        await UntilLoggedAsync(exporter, "warning: config reload (SIGHUP) weakens prometheus.web: access control removed");
        for (int i = 0; i < 50 && (await http.GetAsync(exporter.MetricsUrl)).StatusCode != HttpStatusCode.OK; i++)
        {
            await Task.Delay(100);
        }

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(exporter.MetricsUrl)).StatusCode);
    }
}
