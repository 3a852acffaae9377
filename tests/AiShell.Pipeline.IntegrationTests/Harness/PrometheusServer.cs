using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace AiShell.Pipeline.IntegrationTests.Harness;

/// <summary>A real Prometheus server (apt package <c>prometheus</c>) on a free loopback port, in a temp dir.</summary>
internal sealed class PrometheusServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _dir;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };

    private PrometheusServer(Process process, string dir, Uri url)
    {
        _process = process;
        _dir = dir;
        Url = url;
    }

    public Uri Url { get; }

    /// <param name="ruleFiles">Rule files to load (absolute paths).</param>
    public static Task<PrometheusServer> StartAsync(string scrapeTarget, params string[] ruleFiles) =>
        StartWithScrapeConfigAsync($"""
              - job_name: aishell
                scrape_interval: 1s
                scrape_timeout: 1s
                static_configs:
                  - targets: ['{scrapeTarget}']
            """, ruleFiles);

    /// <param name="scrapeConfigs">The entries under scrape_configs:, indented by two spaces.</param>
    public static async Task<PrometheusServer> StartWithScrapeConfigAsync(string scrapeConfigs, params string[] ruleFiles)
    {
        string dir = Directory.CreateTempSubdirectory("aishell-prom-").FullName;
        string config = Path.Combine(dir, "prometheus.yml");
        string rules = ruleFiles.Length == 0 ? "" : "rule_files:\n" + string.Concat(ruleFiles.Select(f => $"  - '{f}'\n"));
        await File.WriteAllTextAsync(config, rules + "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n" + scrapeConfigs);
        int port = ProcessRunner.FreePort();
        var process = Process.Start(ProcessRunner.StartInfo("prometheus",
        [
            $"--config.file={config}", $"--storage.tsdb.path={Path.Combine(dir, "data")}",
            $"--web.listen-address=127.0.0.1:{port}", "--log.level=warn", "--enable-feature=exemplar-storage",
        ]))!;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new PrometheusServer(process, dir, new Uri($"http://127.0.0.1:{port}"));
        await server.WaitUntilAsync(async () => (await server._http.GetAsync(new Uri(server.Url, "/-/ready"))).IsSuccessStatusCode,
            "prometheus is ready", TimeSpan.FromSeconds(30));
        return server;
    }

    public async Task<JsonElement> ApiAsync(string pathAndQuery)
    {
        string body = await _http.GetStringAsync(new Uri(Url, pathAndQuery));
        using JsonDocument doc = JsonDocument.Parse(body);
        return doc.RootElement.GetProperty("data").Clone();
    }

    /// <summary>Instant query; the samples' values.</summary>
    public async Task<List<double>> QueryAsync(string promql)
    {
        JsonElement data = await ApiAsync("/api/v1/query?query=" + Uri.EscapeDataString(promql));
        var values = new List<double>();
        foreach (JsonElement r in data.GetProperty("result").EnumerateArray())
        {
            values.Add(double.Parse(r.GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture));
        }

        return values;
    }

    public async Task WaitUntilAsync(Func<Task<bool>> condition, string what, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not up yet
            }
            catch (TaskCanceledException)
            {
                // slow answer; try again
            }

            if (sw.Elapsed > timeout || _process.HasExited)
            {
                Assert.Fail($"timed out waiting until {what}");
            }

            await Task.Delay(250);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        if (!_process.HasExited)
        {
            ProcessRunner.Signal(_process, ProcessRunner.SIGTERM);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await _process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        _process.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
