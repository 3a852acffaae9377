using System.Diagnostics;

namespace AiShell.Cli.Loadtest;

/// <summary>Open-loop pacing: each worker's share of --rate; null rate means closed loop (as fast as possible).</summary>
internal sealed class RatePacer(double? perSecond)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _sent;

    public async ValueTask WaitTurnAsync(long units, CancellationToken cancellationToken)
    {
        if (perSecond is not { } rate || rate <= 0)
        {
            return;
        }

        _sent += units;
        double due = _sent / rate;
        double ahead = due - _clock.Elapsed.TotalSeconds;
        if (ahead > 0.001)
        {
            await Task.Delay(TimeSpan.FromSeconds(ahead), cancellationToken);
        }
    }
}
