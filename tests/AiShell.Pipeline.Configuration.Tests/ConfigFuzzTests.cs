using System.Text;

namespace AiShell.Pipeline.Configuration.Tests;

/// <summary>Seeded mutations of a full config: each must load or fail with a ConfigException, never anything else.</summary>
public sealed class ConfigFuzzTests
{
    private const string Seed = """
        prometheus:
          enabled: true
          port: 9090
          path: /metrics
          collect_interval: 15
          metrics: {queries: true, system: false}
          labels: {environment: production, limit: 10}
          drop_labels: "user_id,session_id"
          buckets:
            query_duration: [0.01, 0.05, 0.1, 0.5, 1, 5, 10]
          custom_metrics:
            - {name: business_transactions, type: counter, help: "tx", labels: [type, status]}
          databases:
            - {name: app1, connection_string: "Host=db;Database=app", statement_timeout: 2s, top_tables: 5}
          ingest: {udp_port: 8125, max_body_bytes: 65536}
          alerts: {high_query_rate: 100}
        """;

    private static readonly string[] Junk = [":", "-", "[", "]", "{", "}", "\"", "'", "\n", "  ", "\t", "#", "&a", "*a", "!!str", "?", "|", ">", "%", "@", "\u0000", "é"];

    [Fact]
    public void FortyThousandMutatedConfigs_LoadOrFailWithAConfigException()
    {
        var random = new Random(7);
        int loaded = 0, refused = 0;
        for (int i = 0; i < 40_000; i++)
        {
            var sb = new StringBuilder(Seed);
            for (int e = random.Next(1, 4); e > 0 && sb.Length > 0; e--)
            {
                int at = random.Next(sb.Length);
                switch (random.Next(4))
                {
                    case 0: sb[at] = (char)random.Next(32, 127); break;
                    case 1: sb.Remove(at, Math.Min(random.Next(1, 12), sb.Length - at)); break;
                    case 2: sb.Insert(at, Junk[random.Next(Junk.Length)]); break;
                    default: sb.Length = at; break;
                }
            }

            try
            {
                ConfigLoader.Parse(sb.ToString(), "fuzz.yaml");
                loaded++;
            }
            catch (ConfigException ex)
            {
                Assert.False(string.IsNullOrWhiteSpace(ex.Message));
                refused++;
            }
        }

        Assert.True(loaded > 100 && refused > 1000, $"loaded {loaded}, refused {refused}");
    }
}
