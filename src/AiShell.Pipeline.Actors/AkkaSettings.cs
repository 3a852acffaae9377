namespace AiShell.Pipeline.Actors;

/// <summary>
/// The ActorSystem's configuration as a HOCON string. Under Native AOT the default config lookup
/// fails at run time, so the system is always created from this text.
/// </summary>
internal static class AkkaSettings
{
    /// <summary>
    /// Names a log level for Akka's own logging (DEBUG, INFO, WARNING, ERROR): INFO shows cluster
    /// membership, the split-brain resolver's decisions and shard hand-over. HOCON's <c>${?VAR}</c>
    /// is not used for it: a substitution in the text made Akka merge its reference serializers back
    /// over ours.
    /// </summary>
    public const string LogLevelVariable = "AISHELL_AKKA_LOGLEVEL";

    /// <summary>The log-level override from <see cref="LogLevelVariable"/>, as HOCON; empty when unset.</summary>
    public static string LogLevelOverride()
    {
        string? level = Environment.GetEnvironmentVariable(LogLevelVariable)?.Trim().ToUpperInvariant();
        return level switch
        {
            null or "" => "",
            "DEBUG" or "INFO" or "WARNING" or "ERROR" or "OFF" => $"akka.loglevel = {level}\nakka.stdout-loglevel = {level}",
            _ => throw new ArgumentException($"{LogLevelVariable} is '{level}'; use DEBUG, INFO, WARNING, ERROR or OFF"),
        };
    }

    /// <summary>
    /// The scheduler wheel's tick: a quarter of the shortest timer the pipeline sets (the collect
    /// interval, the first backoff), between 10 ms (Akka's default) and 100 ms. The wheel wakes once
    /// per tick: at 10 ms an idle exporter with a 15 s interval spent 2.9 % of a core waking up for
    /// nothing, at 100 ms 0.8 % (a cluster member: 3.3 % and 1.5 %). Timers shorter than a tick
    /// misfire, hence the quarter.
    /// </summary>
    public static TimeSpan SchedulerTick(TimeSpan collectInterval, TimeSpan minBackoff)
    {
        TimeSpan quarter = (collectInterval < minBackoff ? collectInterval : minBackoff) / 4;
        return quarter < TimeSpan.FromMilliseconds(10) ? TimeSpan.FromMilliseconds(10)
            : quarter > TimeSpan.FromMilliseconds(100) ? TimeSpan.FromMilliseconds(100) : quarter;
    }

    public const string AggregatorDispatcher = "akka.aggregator-dispatcher";

    public const string Hocon = """
        akka {
          loglevel = WARNING
          stdout-loglevel = WARNING
          log-dead-letters = 0
          log-dead-letters-during-shutdown = off
          log-config-on-start = off
          actor {
            # Aggregators drain many batches per message; a higher throughput keeps them on their thread.
            default-dispatcher.throughput = 64
            # Nothing is serialized (one process, no remoting, serialize-messages off). Akka's
            # default serializers would pull Newtonsoft.Json into the native binary: both names are
            # bound to serializers that refuse (LocalOnlySerializer).
            serializers.json = "AiShell.Pipeline.Actors.LocalOnlyObjectSerializer, AiShell.Pipeline.Actors"
            serializers.bytes = "AiShell.Pipeline.Actors.LocalOnlyBytesSerializer, AiShell.Pipeline.Actors"
          }
          # Dedicated threads for the aggregators (one per shard: MetricsPipeline sets the count):
          # folding never waits for the thread pool, and an idle thread sleeps instead of yielding.
          aggregator-dispatcher {
            type = Dispatcher
            executor = "AiShell.Pipeline.Actors.AggregatorExecutorConfigurator, AiShell.Pipeline.Actors"
            throughput = 256
          }
          coordinated-shutdown {
            # The CLI owns SIGINT/SIGTERM and stops the pipeline itself, in order.
            run-by-clr-shutdown-hook = off
            exit-clr = off
          }
        }
        """;
}
