using AiShell.Pipeline.Tests.Shared;
using System.Text;

namespace AiShell.Pipeline.Ingest.Tests;

/// <summary>
/// Bounded, seeded fuzzing of the ingest parsers: mutations of valid lines (byte flips, cuts,
/// insertions, duplication, random Unicode, huge values). Every input must end in an accepted event
/// or a clear rejection; nothing may throw. Counts are fixed so the run stops by itself.
/// </summary>
public sealed class FuzzTests
{
    private static readonly string[] NdjsonSeeds =
    [
        "{\"kind\":\"query\",\"database\":\"app1\",\"type\":\"SELECT\",\"status\":\"success\",\"duration_seconds\":0.012,\"trace_id\":\"abc-1\"}",
        "{\"kind\":\"connection\",\"database\":\"app1\",\"active\":7,\"pool_size\":20,\"wait_seconds\":0.002}",
        "{\"kind\":\"request\",\"method\":\"GET\",\"endpoint\":\"/api/query\",\"status\":200,\"duration_seconds\":0.05,\"size_bytes\":10}",
        "{\"kind\":\"custom\",\"name\":\"business_transactions\",\"labels\":{\"type\":\"card\",\"status\":\"ok\"},\"value\":1}",
        "{\"kind\":\"users\",\"role\":\"admin\",\"active\":3}",
        "{\"kind\":\"feature\",\"feature\":\"nl2sql\"}",
    ];

    private static readonly string[] StatsdSeeds =
    [
        "aishell.query:12.5|ms|#database:app1,type:SELECT,status:success",
        "aishell.request:50|ms|#method:GET,endpoint:/api/query,status:200",
        "aishell.connection.active:7|g|#database:app1",
        "aishell.feature:1|c|@0.5|#feature:nl2sql",
        "aishell.custom.revenue:99.5|g|#product:pro",
    ];

    private static readonly string[] Junk = ["\"", "\\", "{", "}", "[", "]", ":", ",", "|", "#", "@", "\n", "\u0000", "\ud800", "é", "✓", "1e309", "-0", "null", "NaN"];

    internal static string Mutate(Random random, string seed)
    {
        var sb = new StringBuilder(seed);
        int edits = random.Next(1, 5);
        for (int e = 0; e < edits && sb.Length > 0; e++)
        {
            int at = random.Next(sb.Length);
            switch (random.Next(6))
            {
                case 0: sb[at] = (char)random.Next(32, 127); break;
                case 1: sb.Remove(at, Math.Min(random.Next(1, 8), sb.Length - at)); break;
                case 2: sb.Insert(at, Junk[random.Next(Junk.Length)]); break;
                case 3: sb.Length = at; break;
                case 4: sb.Insert(at, new string('x', random.Next(200, 2000))); break;
                default: sb.Insert(at, sb.ToString(0, Math.Min(sb.Length, 40))); break;
            }
        }

        return sb.ToString();
    }

    [Fact]
    public void Ndjson_SixHundredThousandMutatedBodies_EndInEventsOrAClearError()
    {
        var harness = new IngestHarness();
        var random = new Random(20261125);
        var events = new List<IngestEvent>();
        int accepted = 0, rejected = 0;
        for (int i = 0; i < 600_000; i++)
        {
            string body = Mutate(random, NdjsonSeeds[i % NdjsonSeeds.Length]);
            if (i % 7 == 0)
            {
                body = NdjsonSeeds[(i / 7) % NdjsonSeeds.Length] + "\n" + body; // the bad line is not always the first
            }

            events.Clear();
            if (NdjsonParser.TryParse(Encoding.UTF8.GetBytes(body), harness.Schema, events, out IngestError error))
            {
                accepted++;
            }
            else
            {
                Assert.InRange(error.Line, 1, body.Split('\n').Length);
                Assert.False(string.IsNullOrWhiteSpace(error.Reason));
                rejected++;
            }
        }

        Assert.True(accepted > 1000 && rejected > 100_000, $"accepted {accepted}, rejected {rejected}");
    }

    [Fact]
    public void DogStatsd_FourHundredThousandMutatedLines_EndInEventsOrAKnownReason()
    {
        var harness = new IngestHarness();
        var random = new Random(42);
        string[] reasons = [DogStatsdParser.ReasonSyntax, DogStatsdParser.ReasonBadValue, DogStatsdParser.ReasonBadType, DogStatsdParser.ReasonUnknownMetric];
        int parsed = 0;
        for (int i = 0; i < 400_000; i++)
        {
            string line = Mutate(random, StatsdSeeds[i % StatsdSeeds.Length]);
            string? reason = DogStatsdParser.TryParse(line, "aishell", out IngestEvent e);
            if (reason is null)
            {
                parsed++;
                _ = harness.Schema.Validate(ref e); // accepted or a reason: either is fine, throwing is not
            }
            else
            {
                Assert.Contains(reason, reasons);
            }
        }

        Assert.True(parsed > 1000, $"{parsed} parsed");
    }
}
