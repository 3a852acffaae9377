namespace AiShell.Pipeline.Metrics.Tests;

/// <summary>
/// Bytes a piece of work allocates on the calling thread. The runtime allocates on a test's
/// thread now and then for its own reasons (tiering, on-stack replacement, call counting; more
/// often on a loaded machine), so the work runs once to warm up and then <c>attempts</c> times, and the
/// least is reported: an allocation the work itself makes shows in every attempt.
/// </summary>
internal static class Allocations
{
    public static long Least(Action work, int attempts = 5)
    {
        work();
        long least = long.MaxValue;
        for (int i = 0; i < attempts; i++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            work();
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        return least;
    }
}
