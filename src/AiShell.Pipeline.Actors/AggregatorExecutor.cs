using System.Collections.Concurrent;
using Akka.Configuration;
using Akka.Dispatch;

namespace AiShell.Pipeline.Actors;

/// <summary>
/// The aggregators' executor: dedicated threads (one per shard) that sleep when they run out of
/// mailboxes, instead of Akka's pinned dispatcher's pool, whose idle thread calls
/// <c>sched_yield</c> (Thread.Sleep(0)) up to 50 times before it blocks. An aggregator goes idle
/// whenever it has drained its channel, thousands of times a second at full ingest; on two cores
/// with two producers, each of those yields handed the core to a producer and back, and in a
/// profile of <c>loadtest --synthetic</c> the aggregator threads spent 28 % of all CPU samples in
/// sched_yield, task switches and the spin around them. Here an idle thread spins briefly (SemaphoreSlim's bounded spin,
/// no yields) and then waits in the kernel; a producer's wake-up is one semaphore release.
/// <para>
/// Named in the HOCON (<see cref="AkkaSettings"/>) as the dispatcher's <c>executor</c>; Akka builds it
/// by type name with this constructor, which is why the actor assembly is a trimmer root.
/// </para>
/// </summary>
public sealed class AggregatorExecutorConfigurator : ExecutorServiceConfigurator
{
    private readonly int _threads;

    public AggregatorExecutorConfigurator(Config config, IDispatcherPrerequisites prerequisites)
        : base(config, prerequisites)
    {
        ArgumentNullException.ThrowIfNull(config);
        _threads = config.GetInt("aggregator-executor.thread-count", 2);
        if (_threads < 1)
        {
            throw new ConfigurationException($"aggregator-executor.thread-count must be at least 1, not {_threads}");
        }
    }

    public override ExecutorService Produce(string id) => new AggregatorThreads(id, _threads);

    /// <summary>Threads that run queued mailboxes; idle ones wait on a semaphore.</summary>
    private sealed class AggregatorThreads : ExecutorService
    {
        private readonly ConcurrentQueue<IRunnable> _queue = new();
        private readonly SemaphoreSlim _queued = new(0);
        private readonly int _threads;
        private volatile bool _shutdown;

        public AggregatorThreads(string id, int threads)
            : base(id)
        {
            _threads = threads;
            for (int i = 0; i < threads; i++)
            {
                new Thread(Run) { IsBackground = true, Name = $"akka.aggregator-{i}" }.Start();
            }
        }

        public override void Execute(IRunnable run)
        {
            if (_shutdown)
            {
                throw new RejectedExecutionException($"{Id} is shut down");
            }

            _queue.Enqueue(run);
            _queued.Release();
        }

        public override void Shutdown()
        {
            _shutdown = true;
            _queued.Release(_threads); // each thread runs what is queued, then leaves
        }

        private void Run()
        {
            while (true)
            {
                _queued.Wait();
                while (_queue.TryDequeue(out IRunnable? run))
                {
                    run.Run(); // a mailbox run: Akka catches what the actor throws
                }

                if (_shutdown)
                {
                    return;
                }
            }
        }
    }
}
