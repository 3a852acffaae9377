using System.Net;
using System.Net.Http.Headers;
using AiShell.Pipeline.IntegrationTests.Harness;

namespace AiShell.Pipeline.IntegrationTests;

/// <summary>SIGHUP or a changed file reloads the config; an invalid one keeps the running config, reported.</summary>
public sealed class ReloadTests
{
    private const string TokenA = "first-token-0123456789", TokenB = "second-token-0123456789";

    private static string Config(string token, int interval = 1) =>
        $"prometheus:\n  collect_interval: {interval}\n  web:\n    bearer_tokens: ['{token}']\n";

    private static async Task<HttpStatusCode> GetAsync(HttpClient http, Uri url, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return (await http.SendAsync(request)).StatusCode;
    }

    private static async Task UntilAsync(Func<Task<bool>> condition, string what)
    {
        for (int i = 0; i < 100; i++)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(100);
        }

        Assert.Fail($"timed out waiting until {what}");
    }

    [Fact]
    public async Task Sighup_AppliesNewTokens_KeepsCounters_AndAnInvalidFileKeepsTheRunningConfig()
    {
        ExporterProcess exporter = await ExporterProcess.StartAsync(Config(TokenA));
        await using (exporter)
        {
            string file = Path.Combine(exporter.Home, "exporter.yaml");
            using var http = new HttpClient();
            Assert.Equal(HttpStatusCode.OK, await GetAsync(http, exporter.MetricsUrl, TokenA));
            using (var post = new HttpRequestMessage(HttpMethod.Post, new Uri(exporter.BaseUrl, "/api/v1/events")))
            {
                post.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TokenA);
                post.Content = new StringContent("{\"kind\":\"feature\",\"feature\":\"kept\"}\n");
                Assert.Equal(HttpStatusCode.Accepted, (await http.SendAsync(post)).StatusCode);
            }

            await File.WriteAllTextAsync(file, Config(TokenB, interval: 2));
            ProcessRunner.Signal(exporter.Process, 1); // SIGHUP
            await UntilAsync(async () => await GetAsync(http, exporter.MetricsUrl, TokenB) == HttpStatusCode.OK, "the new token works");
            Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync(http, exporter.MetricsUrl, TokenA));
            await UntilAsync(() => Task.FromResult(exporter.Stderr.Contains("after a restart: prometheus.collect_interval", StringComparison.Ordinal)),
                "the reload names what needs a restart");
            Assert.DoesNotContain("prometheus.port", exporter.Stderr, StringComparison.Ordinal); // --port on the command line still wins

            await File.WriteAllTextAsync(file, "prometheus:\n  port: not-a-port\n");
            ProcessRunner.Signal(exporter.Process, 1);
            await UntilAsync(() => Task.FromResult(exporter.Stderr.Contains("keeping the running config", StringComparison.Ordinal)), "the failure is logged");
            using var request = new HttpRequestMessage(HttpMethod.Get, exporter.MetricsUrl);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TokenB);
            string text = await (await http.SendAsync(request)).Content.ReadAsStringAsync();
            Assert.Equal(0, Exposition.Value(text, "aishell_config_last_reload_successful"));
            Assert.True(Exposition.Value(text, "aishell_config_reloads_total{result=\"failure\"}") >= 1);
            Assert.True(Exposition.Value(text, "aishell_config_reloads_total{result=\"success\"}") >= 1);
            Assert.Equal(1, Exposition.Value(text, "aishell_feature_usage_total{feature=\"kept\"}")); // nothing lost
            Assert.Equal(0, await exporter.StopAsync());
        }
    }

    [Fact]
    public async Task AChangedFile_IsPickedUpWithoutASignal()
    {
        await using ExporterProcess exporter = await ExporterProcess.StartAsync(Config(TokenA));
        using var http = new HttpClient();
        await Task.Delay(1100); // a different modification time than the one read at start
        await File.WriteAllTextAsync(Path.Combine(exporter.Home, "exporter.yaml"), Config(TokenB));
        await UntilAsync(async () => await GetAsync(http, exporter.MetricsUrl, TokenB) == HttpStatusCode.OK, "the watcher applies the new token");
    }
}
