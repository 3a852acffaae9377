namespace AiShell.Pipeline.Actors.Cluster;

/// <summary>
/// A cluster member's settings (<c>prometheus.cluster.*</c>). The cluster's name is the actor
/// system's: Akka refuses members whose system has another name.
/// </summary>
public sealed record ClusterOptions(
    string Name,
    string Host,
    string PublicHost,
    int Port,
    IReadOnlyList<string> SeedNodes,
    TimeSpan DownAfter,
    string HttpEndpoint)
{
    /// <summary>The role that carries a member's HTTP address (HOST:PORT), which /api/v1/targets lists.</summary>
    internal const string HttpRolePrefix = "http=";

    /// <summary>
    /// The HOCON that makes the actor system a cluster member: remoting on Host:Port, the seed nodes,
    /// the keep-majority split-brain resolver, sharding on distributed data with remember-entities
    /// off (nothing is persisted), and a coordinated shutdown that leaves the cluster without
    /// terminating the actor system (the pipeline stops it after folding what it holds).
    /// </summary>
    internal string Hocon()
    {
        string seeds = string.Join(", ", SeedNodes.Select(s => Quote($"akka.tcp://{Name}@{s}")));
        string downAfter = $"{Math.Max(1, (int)DownAfter.TotalMilliseconds)}ms";
        return $$"""
            akka {
              actor {
                provider = cluster
                serializers.aishell-cluster = "AiShell.Pipeline.Actors.Cluster.ClusterMessageSerializer, AiShell.Pipeline.Actors"
                serialization-bindings {
                  "AiShell.Pipeline.Actors.Cluster.CollectDatabase, AiShell.Pipeline.Actors" = aishell-cluster
                }
              }
              remote.dot-netty.tcp {
                hostname = {{Quote(Host)}}
                public-hostname = {{Quote(PublicHost)}}
                port = {{Port}}
              }
              cluster {
                seed-nodes = [{{seeds}}]
                roles = [{{Quote(HttpRolePrefix + HttpEndpoint)}}]
                downing-provider-class = "Akka.Cluster.SBR.SplitBrainResolverProvider, Akka.Cluster"
                split-brain-resolver {
                  active-strategy = keep-majority
                  stable-after = {{downAfter}}
                }
                run-coordinated-shutdown-when-down = on
                sharding {
                  state-store-mode = ddata
                  remember-entities = off
                  passivate-idle-entity-after = off
                }
              }
              coordinated-shutdown {
                terminate-actor-system = off
                run-by-actor-system-terminate = off
              }
            }
            """;
    }

    private static string Quote(string value) => "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
