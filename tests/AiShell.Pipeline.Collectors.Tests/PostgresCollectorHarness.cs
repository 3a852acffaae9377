using AiShell.Pipeline.Collectors.Postgres;
using AiShell.Pipeline.Metrics;
using AiShell.Pipeline.Metrics.Exposition;
using AiShell.Pipeline.Metrics.Flow;

namespace AiShell.Pipeline.Collectors.Tests;

/// <summary>A PostgresCollector on a fresh registry, run on demand with its batches folded in place.</summary>
internal sealed class PostgresCollectorHarness : IAsyncDisposable
{
    public PostgresCollectorHarness(PostgresTargetOptions options, QuerySources? sources = null)
    {
        Collector = new PostgresCollector(options, sources ?? new QuerySources(), Logs.Add);
        Collector.Register(Registry);
    }

    public MetricRegistry Registry { get; } = new();

    public PostgresCollector Collector { get; }

    public List<string> Logs { get; } = [];

    public async Task RunAsync()
    {
        var builder = new SampleBatchBuilder("postgres", 2);
        await Collector.CollectAsync(builder, CancellationToken.None);
        foreach (SampleBatch batch in builder.Build())
        {
            batch.Fold();
            batch.Release();
        }
    }

    /// <summary>The value of a written series, or null when it is not exposed.</summary>
    public double? Value(string family, params string[] labels)
    {
        Series series = Registry.Find("aishell_" + family)!.WithLabels(labels);
        return series.HasValue ? series.Value : null;
    }

    public Series Series(string family, params string[] labels) => Registry.Find("aishell_" + family)!.WithLabels(labels);

    public string Scrape()
    {
        var buffer = new ScrapeBuffer();
        ExpositionWriter.Write(buffer, Registry, ExpositionFormat.Text);
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public ValueTask DisposeAsync() => Collector.DisposeAsync();
}
