using AiShell.Pipeline.Collectors;
using AiShell.Pipeline.Metrics;
using AiShell.Pipeline.Metrics.Flow;

namespace AiShell.Pipeline.Actors.Tests;

/// <summary>Counts its runs into a counter; fails the runs listed in <c>failOn</c> (1-based).</summary>
internal sealed class ScriptedCollector(string name, params int[] failOn) : ICollector
{
    private readonly List<long> _started = [];
    private int _runs;
    private Series? _runsSeries;

    public string Name => name;

    /// <summary>When each run started (<see cref="System.Diagnostics.Stopwatch"/> timestamps), in order.</summary>
    public long[] RunStarts
    {
        get
        {
            lock (_started)
            {
                return [.. _started];
            }
        }
    }

    public int Runs => Volatile.Read(ref _runs);

    public Series RunsSeries => _runsSeries!;

    public void Register(MetricRegistry registry) =>
        _runsSeries = registry.Register(MetricDescriptor.Counter("test_runs_total", "runs", "collector")).WithLabels(name);

    public ValueTask CollectAsync(SampleBatchBuilder batch, CancellationToken cancellationToken)
    {
        lock (_started)
        {
            _started.Add(System.Diagnostics.Stopwatch.GetTimestamp());
        }

        int run = Interlocked.Increment(ref _runs);
        if (Array.IndexOf(failOn, run) >= 0)
        {
            throw new InvalidOperationException($"scripted failure on run {run}");
        }

        batch.Increment(_runsSeries!, 1);
        return ValueTask.CompletedTask;
    }
}

/// <summary>Blocks its first run until released; ignores cancellation to prove the timeout bounds it.</summary>
internal sealed class GatedCollector(TimeSpan? hang = null) : ICollector
{
    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Series? _series;
    private int _runs;

    public string Name => "gated";

    public void Release() => _gate.TrySetResult();

    public void Register(MetricRegistry registry) =>
        _series = registry.Register(MetricDescriptor.Gauge("gated_value", "g")).WithLabels();

    public async ValueTask CollectAsync(SampleBatchBuilder batch, CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref _runs) == 1)
        {
            if (hang is { } h)
            {
                await Task.Delay(h, CancellationToken.None);
            }
            else
            {
                await _gate.Task;
            }
        }

        batch.Set(_series!, 42);
    }
}

internal static class Wait
{
    public static async Task UntilAsync(Func<bool> condition, string what, int timeoutMs = 15_000)
    {
        long deadline = Environment.TickCount64 + timeoutMs;
        while (!condition())
        {
            if (Environment.TickCount64 > deadline)
            {
                Assert.Fail($"timed out waiting until {what}");
            }

            await Task.Delay(10);
        }
    }
}
