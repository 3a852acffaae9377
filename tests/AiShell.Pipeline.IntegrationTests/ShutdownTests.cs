using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using AiShell.Pipeline.IntegrationTests.Harness;

namespace AiShell.Pipeline.IntegrationTests;

/// <summary>SIGTERM while events pour in: every accepted event is folded before exit, and the exit code is 0.</summary>
public sealed partial class ShutdownTests
{
    [GeneratedRegex(@"✓ Folded everything accepted: http=(\d+) udp=(\d+) inprocess=(\d+) events; pending samples (\d+)")]
    private static partial Regex Summary();

    [Fact]
    public async Task SigtermDuringIngest_FoldsEveryAcceptedBatch_AndExitsZero()
    {
        ExporterProcess exporter = await ExporterProcess.StartAsync("prometheus:\n  collect_interval: 5\n");
        await using (exporter)
        {
            var events = new Uri(exporter.BaseUrl, "/api/v1/events");
            string body = string.Concat(Enumerable.Repeat("{\"kind\":\"query\",\"database\":\"app1\",\"type\":\"SELECT\",\"duration_seconds\":0.01}\n", 500));
            long accepted = 0;
            var refused = new System.Collections.Concurrent.ConcurrentBag<HttpStatusCode>();
            using var stop = new CancellationTokenSource();
            using var http = new HttpClient();
            Task[] senders = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    try
                    {
                        HttpResponseMessage response = await http.PostAsync(events, new StringContent(body, Encoding.UTF8));
                        if (response.StatusCode == HttpStatusCode.Accepted)
                        {
                            Interlocked.Add(ref accepted, 500);
                        }
                        else
                        {
                            refused.Add(response.StatusCode);
                        }
                    }
                    catch (HttpRequestException)
                    {
                        return; // the server is going away
                    }
                }
            })).ToArray();

            // SIGTERM once ingest is well under way: twenty accepted requests, or 30 s at most (a
            // fixed wait of 1.5 s once saw none accepted on a loaded machine), then a little longer
            // so requests are in flight when the signal lands.
            DateTime deadline = DateTime.UtcNow.AddSeconds(30);
            while (Interlocked.Read(ref accepted) < 20 * 500 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }

            await Task.Delay(200);
            int exitCode = await exporter.StopAsync(ProcessRunner.SIGTERM);
            await stop.CancelAsync();
            await Task.WhenAll(senders);

            Assert.Equal(0, exitCode);
            string line = await exporter.WaitForLineAsync("✓ Folded everything accepted:");
            Match m = Summary().Match(line);
            Assert.True(m.Success, line);
            Assert.True(accepted > 0, $"no request was accepted; refused: {string.Join(", ", refused.Distinct())}");
            Assert.Equal(accepted, long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal("0", m.Groups[4].Value);
        }
    }
}
