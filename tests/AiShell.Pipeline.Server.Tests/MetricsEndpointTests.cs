using System.Net;

namespace AiShell.Pipeline.Server.Tests;

/// <summary>/metrics over real HTTP.</summary>
public sealed class MetricsEndpointTests
{
    [Fact]
    public async Task AWithheldExposition_Answers503WithTheReason_AndServesAgainOnceReleased()
    {
        await using InProcessServer server = await InProcessServer.StartAsync();
        using var http = new HttpClient();
        var metrics = new Uri($"http://127.0.0.1:{server.Server.Port}/metrics");
        string? reason = "this member is restarting\n";
        server.Server.MetricsWithheld = () => reason;

        using (HttpResponseMessage withheld = await http.GetAsync(metrics))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, withheld.StatusCode);
            Assert.Equal(reason, await withheld.Content.ReadAsStringAsync());
        }

        reason = null;
        using HttpResponseMessage served = await http.GetAsync(metrics);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Contains("# TYPE ", await served.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
