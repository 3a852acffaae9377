using AiShell.Pipeline.IntegrationTests.Harness;

namespace AiShell.Pipeline.IntegrationTests;

/// <summary>One native exporter shared by read-only endpoint tests, with constant labels from config.</summary>
public sealed class RunningExporterFixture : IAsyncLifetime
{
    internal ExporterProcess Exporter { get; private set; } = null!;

    public async Task InitializeAsync() => Exporter = await ExporterProcess.StartAsync("""
        prometheus:
          collect_interval: 0.5
          labels:
            environment: "ci \"quoted\" \\ env"
            region: local
        """);

    public async Task DisposeAsync() => await Exporter.DisposeAsync();
}
