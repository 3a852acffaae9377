using System.Net.Http.Headers;
using System.Text.Json;

namespace AiShell.Pipeline.Server.Discovery;

/// <summary>
/// Registers the exporter with a Consul agent on start (<c>PUT /v1/agent/service/register</c>, with
/// an HTTP check on <c>/healthz</c> every 10 s that deregisters it after a minute critical) and
/// deregisters it on a clean stop (<c>PUT /v1/agent/service/deregister/ID</c>).
/// </summary>
public sealed class ConsulRegistration(Uri agent, string service, string advertise, string metricsPath) : IDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };

    /// <summary>service-host-port, stable across restarts of the same instance.</summary>
    public string ServiceId { get; } = $"{service}-{advertise.Replace(':', '-')}";

    public async Task RegisterAsync(CancellationToken cancellationToken)
    {
        int colon = advertise.LastIndexOf(':');
        string host = advertise[..colon];
        int port = int.Parse(advertise[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        using var body = new MemoryStream();
        using (var json = new Utf8JsonWriter(body))
        {
            json.WriteStartObject();
            json.WriteString("ID", ServiceId);
            json.WriteString("Name", service);
            json.WriteString("Address", host);
            json.WriteNumber("Port", port);
            json.WriteStartArray("Tags");
            json.WriteStringValue("aishell");
            json.WriteStringValue("prometheus");
            json.WriteEndArray();
            json.WriteStartObject("Meta");
            json.WriteString("metrics_path", metricsPath);
            json.WriteEndObject();
            json.WriteStartObject("Check");
            json.WriteString("HTTP", $"http://{advertise}{ExporterServer.HealthPath}");
            json.WriteString("Interval", "10s");
            json.WriteString("Timeout", "2s");
            json.WriteString("DeregisterCriticalServiceAfter", "1m");
            json.WriteEndObject();
            json.WriteEndObject();
        }

        using var content = new ByteArrayContent(body.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using HttpResponseMessage response = await _http.PutAsync(new Uri(agent, "/v1/agent/service/register"), content, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"Consul answered {(int)response.StatusCode} to the registration of {ServiceId}");
        }
    }

    public async Task DeregisterAsync(CancellationToken cancellationToken)
    {
        using HttpResponseMessage response = await _http.PutAsync(
            new Uri(agent, $"/v1/agent/service/deregister/{Uri.EscapeDataString(ServiceId)}"), null, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"Consul answered {(int)response.StatusCode} to the deregistration of {ServiceId}");
        }
    }

    public void Dispose() => _http.Dispose();
}
