using System.Diagnostics;
using System.Globalization;

namespace AiShell.Cli.Loadtest;

/// <summary>
/// Counters and latencies shared by the workers of one run (each worker owns a <see cref="Worker"/>;
/// the reporter merges them under a lock once per interval), the live progress line and the summary.
/// </summary>
internal sealed class LoadStats
{
    private readonly Lock _gate = new();
    private readonly List<Worker> _workers = [];
    private readonly LatencyHistogram _total = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _lastEvents;
    private double _lastSeconds;

    public string Unit { get; init; } = "events";

    public Worker NewWorker()
    {
        var worker = new Worker();
        lock (_gate)
        {
            _workers.Add(worker);
        }

        return worker;
    }

    public (long Events, long Errors, long Dropped) Totals()
    {
        long events = 0, errors = 0, dropped = 0;
        lock (_gate)
        {
            foreach (Worker w in _workers)
            {
                events += Volatile.Read(ref w.Events);
                errors += Volatile.Read(ref w.Errors);
                dropped += Volatile.Read(ref w.Dropped);
            }
        }

        return (events, errors, dropped);
    }

    /// <summary>Live line on a terminal (rewritten in place), plain lines otherwise.</summary>
    public async Task ReportAsync(TimeSpan duration, CancellationToken cancellationToken)
    {
        bool terminal = !Console.IsOutputRedirected;
        TimeSpan every = terminal ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(5);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(every, cancellationToken);
                string line = ProgressLine(duration);
                if (terminal)
                {
                    Console.Write("\r" + line.PadRight(Console.WindowWidth > 0 ? Math.Min(Console.WindowWidth - 1, 120) : 100));
                }
                else
                {
                    Console.WriteLine(line);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // run over
        }

        if (terminal)
        {
            Console.WriteLine();
        }
    }

    private string ProgressLine(TimeSpan duration)
    {
        LatencyHistogram window = Collect();
        (long events, long errors, long dropped) = Totals();
        double now = _clock.Elapsed.TotalSeconds;
        double rate = (events - _lastEvents) / Math.Max(1e-9, now - _lastSeconds);
        _lastEvents = events;
        _lastSeconds = now;
        return string.Create(CultureInfo.InvariantCulture,
            $"[{now,6:0.0}s/{duration.TotalSeconds:0}s] {rate,12:N0} {Unit}/s  p50 {Ms(window.Quantile(0.5))}  p95 {Ms(window.Quantile(0.95))}  p99 {Ms(window.Quantile(0.99))}  errors {errors:N0}  drops {dropped:N0}");
    }

    /// <summary>Merges every worker's latencies since the last call into the run total; returns this window.</summary>
    private LatencyHistogram Collect()
    {
        var window = new LatencyHistogram();
        lock (_gate)
        {
            foreach (Worker w in _workers)
            {
                lock (w.Gate)
                {
                    window.MergeFrom(w.Latencies);
                    w.Latencies.Clear();
                }
            }

            _total.MergeFrom(window);
        }

        return window;
    }

    /// <summary>The summary table; returns the error rate.</summary>
    public double PrintSummary(string mode, string target)
    {
        Collect();
        (long events, long errors, long dropped) = Totals();
        double seconds = _clock.Elapsed.TotalSeconds;
        double errorRate = events + errors == 0 ? 0 : errors / (double)(events + errors);
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine();
        Console.WriteLine($"  mode            {mode}");
        Console.WriteLine($"  target          {target}");
        Console.WriteLine(string.Create(inv, $"  duration        {seconds:0.00} s"));
        Console.WriteLine(string.Create(inv, $"  {Unit,-15} {events:N0}"));
        Console.WriteLine(string.Create(inv, $"  throughput      {events / seconds:N0} {Unit}/s"));
        Console.WriteLine($"  latency p50     {Ms(_total.Quantile(0.5))}");
        Console.WriteLine($"  latency p95     {Ms(_total.Quantile(0.95))}");
        Console.WriteLine($"  latency p99     {Ms(_total.Quantile(0.99))}");
        Console.WriteLine(string.Create(inv, $"  errors          {errors:N0} ({errorRate:P2})"));
        Console.WriteLine(string.Create(inv, $"  drops           {dropped:N0}"));
        return errorRate;
    }

    private static string Ms(double seconds) =>
        double.IsNaN(seconds) ? "      -" : string.Create(CultureInfo.InvariantCulture, $"{seconds * 1000,7:0.###}ms");

    /// <summary>One worker's counters: written by its thread only, read by the reporter.</summary>
    internal sealed class Worker
    {
        public readonly Lock Gate = new();
        public readonly LatencyHistogram Latencies = new();
        public long Events;
        public long Errors;
        public long Dropped;

        public void Done(long events, double seconds)
        {
            Interlocked.Add(ref Events, events);
            lock (Gate)
            {
                Latencies.Record(seconds);
            }
        }
    }
}
