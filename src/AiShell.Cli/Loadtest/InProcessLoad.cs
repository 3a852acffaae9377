using System.Diagnostics;
using AiShell.Cli.Runtime;
using AiShell.Pipeline.Configuration;
using AiShell.Pipeline.Ingest;
using AiShell.Pipeline.Metrics;

namespace AiShell.Cli.Loadtest;

/// <summary>
/// <c>--synthetic</c>: drives the pipeline alone (in-process recorder → channels → aggregators) at
/// full speed or at --rate, then checks that every recorded event was counted.
/// </summary>
internal static class InProcessLoad
{
    private static readonly string[] Types = ["SELECT", "INSERT", "UPDATE", "DELETE"];

    public static async Task<int> RunSyntheticAsync(LoadOptions options, CancellationToken stop)
    {
        await using ExporterRuntime runtime = await LoadRuntime.StartAsync(options, stop);
        var stats = new LoadStats();
        await LoadDriver.RunAsync(options, stats, stop,
            (worker, seed, deadline) => LoadDriver.Blocking(() => Record(runtime.Recorder, worker, seed, options, deadline)));
        runtime.Recorder.FlushAll();
        double errorRate = stats.PrintSummary("synthetic (in-process pipeline)", "in-process");
        (long events, _, _) = stats.Totals();
        (double counted, long histogram, long summary) = await WaitForCountAsync(runtime.Registry, events);
        bool countedAll = counted == events, observedAll = histogram == events && summary == events;
        Console.WriteLine($"  counted         {counted:N0} of {events:N0} recorded{(countedAll ? " (exact)" : " (MISMATCH)")}");
        Console.WriteLine($"  observed        {histogram:N0} in the histogram, {summary:N0} in the summary{(observedAll ? " (exact)" : " (MISMATCH)")}");
        if (runtime.Registry.Find(runtime.Registry.Options.Prefix + "_pipeline_samples_folded_total") is { } folded && events > 0)
        {
            double samples = folded.AllSeries().Sum(static s => s.Value);
            Console.WriteLine($"  samples folded  {samples:N0} ({samples / events:0.###} per event)");
        }

        return countedAll && observedAll && errorRate <= options.MaxErrorRate ? 0 : 1;
    }

    private static void Record(EventRecorder recorder, LoadStats.Worker worker, int seed, LoadOptions options, CancellationToken stop)
    {
        const int Chunk = 256;
        var databases = new[] { "app" + seed, "shared" };
        var pacer = new RatePacer(options.Rate / options.Concurrency);
        var events = new IngestEvent[Chunk]; // every field the loop leaves alone stays default: Kind is Query
        bool perEvent = options.PerEvent;
        long i = 0;
        while (!stop.IsCancellationRequested)
        {
            pacer.WaitTurnAsync(Chunk, CancellationToken.None).AsTask().GetAwaiter().GetResult();
            long started = Stopwatch.GetTimestamp();
            for (int k = 0; k < Chunk; k++, i++)
            {
                // Field by field in place: assigning a whole new event copied its 150 bytes through
                // the GC write barrier, a tenth of the run's CPU spent by the generator, not the pipeline.
                ref IngestEvent e = ref events[k];
                bool failed = (i & 63) == 0;
                e.Database = databases[i & 1];
                e.Type = Types[i & 3];
                e.Status = failed ? "error" : "success";
                e.Error = failed ? "40001" : null;
                e.Duration = (i & 1023) * 0.0005;
            }

            if (perEvent)
            {
                foreach (IngestEvent e in events)
                {
                    recorder.Record(e);
                }
            }
            else
            {
                recorder.RecordAll(events);
            }

            worker.Done(Chunk, Stopwatch.GetElapsedTime(started).TotalSeconds / Chunk);
        }
    }

    /// <summary>
    /// Every query family's count once the aggregators have folded everything: the counter's sum
    /// and the histogram's and summary's observation counts, each of which must equal the events.
    /// </summary>
    private static async Task<(double Total, long Histogram, long Summary)> WaitForCountAsync(MetricRegistry registry, long expected)
    {
        string prefix = registry.Options.Prefix;
        MetricFamily total = registry.Find(prefix + "_query_total")!;
        MetricFamily histogram = registry.Find(prefix + "_query_duration_seconds")!;
        MetricFamily summary = registry.Find(prefix + "_query_duration_summary")!;
        (double, long, long) counts = default;
        for (int attempt = 0; attempt < 200; attempt++)
        {
            counts = (total.AllSeries().Sum(static s => s.Value), histogram.AllSeries().Sum(static s => s.Count), summary.AllSeries().Sum(static s => s.SummaryCount));
            if (counts.Item1 >= expected && counts.Item2 >= expected && counts.Item3 >= expected)
            {
                break;
            }

            await Task.Delay(25);
        }

        return counts;
    }
}

/// <summary>The exporter the harness runs in-process, serving its own /metrics on 127.0.0.1 (--port, else a free port).</summary>
internal static class LoadRuntime
{
    public static async Task<ExporterRuntime> StartAsync(LoadOptions options, CancellationToken cancellationToken)
    {
        ExporterConfig config = ConfigLoader.Load(options.ConfigPath);
        config.Host = "127.0.0.1";
        config.Port = options.Port ?? 0;
        config.Databases.Clear(); // the harness measures its own load, not configured databases
        ExporterRuntime runtime = await ExporterRuntime.StartAsync(config, cancellationToken);
        Console.WriteLine($"✓ Load-test metrics: http://127.0.0.1:{runtime.Server.Port}{config.Path}");
        return runtime;
    }
}
