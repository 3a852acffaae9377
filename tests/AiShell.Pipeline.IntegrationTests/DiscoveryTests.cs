using System.Net;
using System.Text.Json;
using AiShell.Pipeline.IntegrationTests.Harness;

namespace AiShell.Pipeline.IntegrationTests;

/// <summary>Service discovery: http_sd consumed by a real Prometheus, file_sd, and Consul's agent API.</summary>
public sealed class DiscoveryTests
{
    [Fact]
    public async Task HttpSd_ListsThisInstanceAndPeers_AndARealPrometheusScrapesWhatItFinds()
    {
        await using ExporterProcess exporter = await ExporterProcess.StartAsync(
            "prometheus:\n  collect_interval: 1\n  discovery:\n    peers: [db-server-1.invalid:9090]\n");
        using var http = new HttpClient();
        string body = await http.GetStringAsync(new Uri(exporter.BaseUrl, "/api/v1/targets"));
        using JsonDocument doc = JsonDocument.Parse(body);
        JsonElement group = doc.RootElement.EnumerateArray().Single();
        string self = exporter.MetricsUrl.Authority;
        Assert.Equal([self, "db-server-1.invalid:9090"], group.GetProperty("targets").EnumerateArray().Select(t => t.GetString()!).ToArray());
        Assert.Equal("/metrics", group.GetProperty("labels").GetProperty("__metrics_path__").GetString());

        await using PrometheusServer prometheus = await PrometheusServer.StartWithScrapeConfigAsync($"""
              - job_name: aishell-sd
                scrape_interval: 1s
                scrape_timeout: 1s
                http_sd_configs:
                  - url: '{new Uri(exporter.BaseUrl, "/api/v1/targets")}'
                    refresh_interval: 1s
            """);
        await prometheus.WaitUntilAsync(async () =>
        {
            JsonElement targets = (await prometheus.ApiAsync("/api/v1/targets")).GetProperty("activeTargets");
            return targets.EnumerateArray().Any(t => t.GetProperty("labels").GetProperty("instance").GetString() == self
                && t.GetProperty("health").GetString() == "up");
        }, "Prometheus discovers and scrapes the exporter through http_sd", TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task FileSd_IsWrittenOnStart_AndRemovedOnStop()
    {
        string dir = Directory.CreateTempSubdirectory("aishell-filesd-").FullName;
        try
        {
            string file = Path.Combine(dir, "targets", "aishell.json");
            ExporterProcess exporter = await ExporterProcess.StartAsync(null, "--file-sd", file);
            await using (exporter)
            {
                using JsonDocument doc = JsonDocument.Parse(await File.ReadAllTextAsync(file));
                Assert.Equal(exporter.MetricsUrl.Authority, doc.RootElement[0].GetProperty("targets")[0].GetString());
                Assert.Equal(0, await exporter.StopAsync());
            }

            Assert.False(File.Exists(file));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>No Consul binary is available here: a local listener stands in for the agent and checks its API's payloads.</summary>
    [Fact]
    public async Task Consul_RegistersOnStart_WithAHealthCheck_AndDeregistersOnStop()
    {
        int port = ProcessRunner.FreePort();
        using var agent = new HttpListener();
        agent.Prefixes.Add($"http://127.0.0.1:{port}/");
        agent.Start();
        var requests = new List<(string Method, string Path, string Body)>();
        Task serve = Task.Run(async () =>
        {
            while (agent.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await agent.GetContextAsync();
                }
                catch (HttpListenerException)
                {
                    break;
                }
                catch (ObjectDisposedException)
                {
                    break;
                }

                using var reader = new StreamReader(context.Request.InputStream);
                string body = await reader.ReadToEndAsync();
                lock (requests)
                {
                    requests.Add((context.Request.HttpMethod, context.Request.Url!.AbsolutePath, body));
                }

                context.Response.StatusCode = 200;
                context.Response.Close();
            }
        });

        ExporterProcess exporter = await ExporterProcess.StartAsync(
            $"prometheus:\n  discovery:\n    consul:\n      address: http://127.0.0.1:{port}\n      service: aishell-test\n");
        await using (exporter)
        {
            await exporter.WaitForLineAsync("✓ Registered with Consul as aishell-test-");
            Assert.Equal(0, await exporter.StopAsync());
        }

        agent.Stop();
        await serve;
        (string Method, string Path, string Body)[] seen;
        lock (requests)
        {
            seen = [.. requests];
        }

        Assert.Equal(2, seen.Length);
        Assert.Equal(("PUT", "/v1/agent/service/register"), (seen[0].Method, seen[0].Path));
        using JsonDocument registration = JsonDocument.Parse(seen[0].Body);
        JsonElement r = registration.RootElement;
        string self = exporter.MetricsUrl.Authority;
        Assert.Equal("aishell-test", r.GetProperty("Name").GetString());
        Assert.Equal("127.0.0.1", r.GetProperty("Address").GetString());
        Assert.Equal(exporter.MetricsUrl.Port, r.GetProperty("Port").GetInt32());
        Assert.Equal($"http://{self}/healthz", r.GetProperty("Check").GetProperty("HTTP").GetString());
        Assert.Equal("10s", r.GetProperty("Check").GetProperty("Interval").GetString());
        string id = r.GetProperty("ID").GetString()!;
        Assert.Equal(("PUT", $"/v1/agent/service/deregister/{id}"), (seen[1].Method, seen[1].Path));
    }

    [Fact]
    public async Task Consul_Unreachable_IsReported_AndTheExporterKeepsServing()
    {
        int closed = ProcessRunner.FreePort();
        await using ExporterProcess exporter = await ExporterProcess.StartAsync(
            $"prometheus:\n  discovery:\n    consul:\n      address: http://127.0.0.1:{closed}\n");
        using var http = new HttpClient();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(exporter.MetricsUrl)).StatusCode);
        await Task.Delay(200);
        Assert.Contains("Consul registration", exporter.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, await exporter.StopAsync());
    }
}
