namespace AiShell.Cli.Loadtest;

/// <summary>Runs --concurrency workers until --duration (or a signal), with the progress reporter beside them.</summary>
internal static class LoadDriver
{
    /// <summary>
    /// <paramref name="work"/> gets its worker's counters, its index and the deadline token. Blocking
    /// loops should run on their own thread (<see cref="Blocking"/>) so they do not hold pool threads.
    /// </summary>
    public static async Task RunAsync(LoadOptions options, LoadStats stats, CancellationToken stop,
        Func<LoadStats.Worker, int, CancellationToken, Task> work)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stop);
        deadline.CancelAfter(options.Duration);
        Task reporter = stats.ReportAsync(options.Duration, deadline.Token);
        var workers = new Task[options.Concurrency];
        for (int w = 0; w < workers.Length; w++)
        {
            LoadStats.Worker worker = stats.NewWorker();
            int index = w;
            workers[w] = Task.Run(() => work(worker, index, deadline.Token), CancellationToken.None);
        }

        await Task.WhenAll(workers);
        await reporter;
    }

    /// <summary>Runs a blocking loop on a dedicated thread.</summary>
    public static Task Blocking(Action loop) => Task.Factory.StartNew(loop, CancellationToken.None,
        TaskCreationOptions.LongRunning, TaskScheduler.Default);
}
