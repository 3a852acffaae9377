namespace AiShell.Pipeline.Actors;

/// <summary>
/// Keeps collector failure logs readable: the first failure of a run of failures is always logged;
/// after that, the same collector failing for the same reason is logged at most once a minute, and
/// that line says how many were held back ("and 11 more like it in the last minute"). Five
/// unreachable databases collected every 5 s write 5 lines a minute instead of 60. Used by the
/// supervisor only, so it needs no lock.
/// </summary>
internal sealed class FailureLogLimit
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    private readonly Dictionary<(string Source, string Reason), (long LoggedAt, int Held)> _last = [];

    /// <summary>The line to log for this failure, or null when it is held back.</summary>
    public string? Line(string source, string reason, int consecutiveFailures, long nowMs)
    {
        (string, string) key = (source, reason);
        if (consecutiveFailures > 1 && _last.TryGetValue(key, out (long LoggedAt, int Held) last)
            && nowMs - last.LoggedAt < (long)Window.TotalMilliseconds)
        {
            _last[key] = (last.LoggedAt, last.Held + 1);
            return null;
        }

        if (consecutiveFailures <= 1)
        {
            // A new run of failures: whatever was held belonged to the last run, which the
            // "recovered after N failed run(s)" line has accounted for.
            foreach ((string Source, string Reason) stale in _last.Keys.Where(k => k.Source == source).ToList())
            {
                _last.Remove(stale);
            }
        }

        int held = _last.TryGetValue(key, out (long, int Held) previous) ? previous.Held : 0;
        _last[key] = (nowMs, 0);
        return $"collector {source} failed ({consecutiveFailures} in a row): {reason}" +
            (held > 0 ? $" (and {held} more like it in the last minute)" : "");
    }
}
