using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using AiShell.Pipeline.IntegrationTests.Harness;
using AiShell.Pipeline.Tests.Shared;
using Xunit.Abstractions;

namespace AiShell.Pipeline.IntegrationTests;

/// <summary>
/// Three native members on 127.0.0.1 (own HTTP and remoting ports) share one list of 12 real
/// databases, collect interval 1 s, sampled every 250 ms: each database collected by exactly one
/// member; /api/v1/targets of any member lists all; kill -9 of the oldest member (it hosts the
/// shard coordinator); SIGTERM of another; a restarted member joins again and gets a share; SIGSTOP
/// of a member past down_after, then SIGCONT: it never serves /metrics again and exits (3).
/// </summary>
[Collection(ServerControlCollection.Name)]
public sealed partial class ClusterTests(ITestOutputHelper output)
{
    private const int Databases = 12;

    [GeneratedRegex("""^aishell_up\{database="([^"]+)"\} 1$""", RegexOptions.Multiline)]
    private static partial Regex UpLine();

    private sealed class Member(int http, int remoting)
    {
        public int Http { get; } = http;

        public int Remoting { get; } = remoting;

        public ExporterProcess? Process { get; set; }

        /// <summary>Stopped with SIGSTOP: not sampled (its socket accepts, but nothing answers).</summary>
        public bool Frozen { get; set; }
    }

    [Fact]
    public async Task TwelveDatabases_ThreeMembers_EachCollectedOnce_ThroughCrashLeaveAndRejoin()
    {
        PostgresServer pg = await PostgresServer.GetAsync();
        string prefix = $"cl{Guid.NewGuid():N}"[..10];
        for (int i = 1; i <= Databases; i++)
        {
            await pg.ExecuteAsync($"CREATE DATABASE {prefix}_{i}", "postgres");
        }

        Member[] members = [.. Enumerable.Range(0, 3).Select(_ => new Member(ProcessRunner.FreePort(), ProcessRunner.FreePort()))];
        string seeds = string.Join(", ", members.Select(m => $"127.0.0.1:{m.Remoting}"));
        string Config(Member m) => $"""
            prometheus:
              collect_interval: 1
              metrics:
                system: false
              cluster:
                enabled: true
                host: 127.0.0.1
                port: {m.Remoting}
                seed_nodes: [{seeds}]
                down_after: 2s
              databases:
            {string.Join('\n', Enumerable.Range(1, Databases).Select(i => $"""
                - name: {prefix}_{i}
                  connection_string: "{pg.ConnectionStringWithoutPassword.Replace("aishell_test", $"{prefix}_{i}", StringComparison.Ordinal)}"
                  password_env: AISHELL_TEST_PG_PASSWORD
            """))}
            """;
        Environment.SetEnvironmentVariable("AISHELL_TEST_PG_PASSWORD", pg.Password);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        try
        {
            foreach (Member m in members)
            {
                m.Process = await ExporterProcess.StartOnPortAsync(m.Http, Config(m));
            }

            // Every database on exactly one member.
            TimeSpan settled = await WaitAsync(http, members, EachOnce, TimeSpan.FromSeconds(40));
            output.WriteLine($"all {Databases} collected, each once, {settled.TotalSeconds:0.0} s after the last member started");

            // Members that joined later are Up and got a share by rebalancing: a kill before then
            // would find them still joining, with no majority to down the dead member.
            TimeSpan spread = await WaitAsync(http, members,
                owners => EachOnce(owners) && EveryMemberOwns(owners, members.Length), TimeSpan.FromSeconds(40));
            output.WriteLine($"every member owned a share {(settled + spread).TotalSeconds:0.0} s after the last member started");

            // Once all have joined, any member lists every live member for Prometheus' http_sd.
            var joining = Stopwatch.StartNew();
            string targets = "";
            while (joining.Elapsed < TimeSpan.FromSeconds(30) && !members.All(m => targets.Contains($"\"127.0.0.1:{m.Http}\"", StringComparison.Ordinal)))
            {
                await Task.Delay(250);
                targets = await http.GetStringAsync(new Uri($"http://127.0.0.1:{members[1].Http}/api/v1/targets"));
            }

            Assert.All(members, m => Assert.Contains($"\"127.0.0.1:{m.Http}\"", targets, StringComparison.Ordinal));
            output.WriteLine($"/api/v1/targets listed all three members {joining.Elapsed.TotalSeconds:0.0} s later");

            // /api/v1/status of each member: the three members up, and the databases it collects,
            // which together are every database once and agree with /metrics.
            Dictionary<string, List<int>> exposed = await OwnersAsync(http, members);
            var listed = new Dictionary<string, List<int>>(StringComparer.Ordinal);
            for (int i = 0; i < members.Length; i++)
            {
                using JsonDocument status = JsonDocument.Parse(await http.GetStringAsync(new Uri($"http://127.0.0.1:{members[i].Http}/api/v1/status")));
                JsonElement cluster = status.RootElement.GetProperty("cluster");
                Assert.Equal(3, cluster.GetProperty("members").EnumerateArray().Count(m => m.GetProperty("status").GetString() == "up"));
                foreach (JsonElement db in cluster.GetProperty("databases").EnumerateArray())
                {
                    (listed.TryGetValue(db.GetString()!, out List<int>? on) ? on : listed[db.GetString()!] = []).Add(i);
                }
            }

            Assert.Equal(exposed.OrderBy(o => o.Key).Select(o => $"{o.Key}@{string.Join(",", o.Value)}"),
                listed.OrderBy(o => o.Key).Select(o => $"{o.Key}@{string.Join(",", o.Value)}"));

            // `prometheus status` against one member shows every member and what each collects.
            RunResult cli = await ProcessRunner.RunAsync(NativeBinary.Path,
                ["prometheus", "status", "--host", "127.0.0.1", "--port", members[0].Http.ToString(System.Globalization.CultureInfo.InvariantCulture)],
                ExporterProcess.Env(members[0].Process!.Home));
            Assert.Equal(0, cli.ExitCode);
            Assert.Contains("Cluster 'aishell': 3 member(s)", cli.Stdout, StringComparison.Ordinal);
            Assert.All(members, m => Assert.Contains($"127.0.0.1:{m.Http} (up", cli.Stdout, StringComparison.Ordinal));
            string clusterPart = cli.Stdout[cli.Stdout.IndexOf("Cluster '", StringComparison.Ordinal)..];
            Assert.Equal(Databases, Regex.Matches(clusterPart, $@"{prefix}_\d+").Count);

            // A real Prometheus that knows one member's http_sd URL finds all three and sees every database once.
            await using PrometheusServer prometheus = await PrometheusServer.StartWithScrapeConfigAsync($"""
                  - job_name: aishell-cluster
                    scrape_interval: 1s
                    scrape_timeout: 1s
                    http_sd_configs:
                      - url: 'http://127.0.0.1:{members[2].Http}/api/v1/targets'
                        refresh_interval: 1s
                """);
            await prometheus.WaitUntilAsync(async () => (await prometheus.QueryAsync("count(aishell_up == 1)")).SingleOrDefault() == Databases,
                $"Prometheus, through http_sd, sees all {Databases} databases up", TimeSpan.FromSeconds(60));

            // kill -9 of the oldest member, which hosts the shard coordinator.
            members[0].Process!.Process.Kill();
            await members[0].Process!.Process.WaitForExitAsync();
            await members[0].Process!.DisposeAsync();
            members[0].Process = null;
            TimeSpan failover = await WaitAsync(http, members, EachOnce, TimeSpan.FromSeconds(60));
            output.WriteLine($"kill -9 of the oldest member: all {Databases} back, each once, after {failover.TotalSeconds:0.0} s (down_after 2s)");
            var seen = Stopwatch.StartNew();
            await prometheus.WaitUntilAsync(async () => (await prometheus.QueryAsync("count(aishell_up == 1)")).SingleOrDefault() == Databases,
                $"Prometheus sees all {Databases} databases up again after the failover", TimeSpan.FromSeconds(30));
            output.WriteLine($"Prometheus (http_sd on one member): count(aishell_up == 1) == {Databases} again {seen.Elapsed.TotalSeconds:0.0} s later");

            // SIGTERM of another: its databases move before it exits; none uncovered for more than two intervals.
            var uncoveredSince = new Dictionary<string, Stopwatch>();
            TimeSpan longestGap = TimeSpan.Zero;
            Task<int> leaving = members[1].Process!.StopAsync();
            var watch = Stopwatch.StartNew();
            while (watch.Elapsed < TimeSpan.FromSeconds(8))
            {
                (Dictionary<string, List<int>> owners, List<int> silent) = await SampleAsync(http, members);
                AssertNoDatabaseTwice(owners);
                if (silent.Exists(i => i != 1))
                {
                    await Task.Delay(250);
                    continue; // a member that stays did not answer: this sample says nothing of coverage
                }

                for (int i = 1; i <= Databases; i++)
                {
                    string db = $"{prefix}_{i}";
                    if (owners.ContainsKey(db))
                    {
                        if (uncoveredSince.Remove(db, out Stopwatch? gap))
                        {
                            longestGap = gap.Elapsed > longestGap ? gap.Elapsed : longestGap;
                        }
                    }
                    else if (!uncoveredSince.ContainsKey(db))
                    {
                        uncoveredSince[db] = Stopwatch.StartNew();
                    }
                }

                await Task.Delay(250);
            }

            Assert.Equal(0, await leaving);
            members[1].Process = null;
            Assert.Empty(uncoveredSince);
            output.WriteLine($"SIGTERM of a member: longest time a database was uncovered {longestGap.TotalMilliseconds:0} ms");
            Assert.True(longestGap <= TimeSpan.FromSeconds(2.5), $"a database went uncollected for {longestGap} (two intervals: 2 s)");

            // A restarted member joins again and gets a share.
            members[0].Process = await ExporterProcess.StartOnPortAsync(members[0].Http, Config(members[0]));
            TimeSpan share = await WaitAsync(http, members,
                owners => EachOnce(owners) && owners.Values.Any(o => o[0] == 0), TimeSpan.FromSeconds(40));
            output.WriteLine($"a restarted member got a share {share.TotalSeconds:0.0} s after it was ready");

            // SIGSTOP a member past down_after: the others take its databases over; after SIGCONT it
            // never exposes one of them again (its /metrics answers 503 from the moment it runs), and
            // it exits (3) to join again as a new member.
            members[1].Process = await ExporterProcess.StartOnPortAsync(members[1].Http, Config(members[1]));
            await WaitAsync(http, members, owners => EachOnce(owners) && EveryMemberOwns(owners, members.Length), TimeSpan.FromSeconds(60));
            Member frozen = members[2];
            ProcessRunner.Signal(frozen.Process!.Process, ProcessRunner.SIGSTOP);
            frozen.Frozen = true;
            TimeSpan takeover = await WaitAsync(http, members, EachOnce, TimeSpan.FromSeconds(60));
            output.WriteLine($"SIGSTOP of a member: all {Databases} on the others after {takeover.TotalSeconds:0.0} s");
            ProcessRunner.Signal(frozen.Process!.Process, ProcessRunner.SIGCONT);
            frozen.Frozen = false;
            var woken = Stopwatch.StartNew();
            int refusals = 0;
            while (!frozen.Process!.Process.HasExited && woken.Elapsed < TimeSpan.FromSeconds(40))
            {
                AssertNoDatabaseTwice(await OwnersAsync(http, members)); // the woken member included
                try
                {
                    using HttpResponseMessage r = await http.GetAsync(new Uri($"http://127.0.0.1:{frozen.Http}/metrics"));
                    Assert.True(r.StatusCode == System.Net.HttpStatusCode.ServiceUnavailable, $"the woken member served /metrics ({(int)r.StatusCode})");
                    refusals++;
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                    // exiting
                }

                await Task.Delay(50);
            }

            Assert.True(frozen.Process.Process.HasExited, "a member woken after down_after kept running");
            Assert.Equal(3, frozen.Process.Process.ExitCode);
            output.WriteLine($"SIGCONT: the woken member exited (3) {woken.Elapsed.TotalSeconds:0.0} s later, {refusals} scrape(s) of it refused meanwhile; no database on two members");
            await frozen.Process.DisposeAsync();
            frozen.Process = null;
        }
        finally
        {
            foreach (Member m in members)
            {
                if (m.Process is not null)
                {
                    if (m.Frozen)
                    {
                        ProcessRunner.Signal(m.Process.Process, ProcessRunner.SIGCONT);
                    }

                    await m.Process.DisposeAsync();
                }
            }
        }
    }

    /// <summary>Which members expose each database as up (index into <paramref name="members"/>).</summary>
    private static async Task<Dictionary<string, List<int>>> OwnersAsync(HttpClient http, Member[] members) =>
        (await SampleAsync(http, members)).Owners;

    /// <summary>As <see cref="OwnersAsync"/>, with the members that did not answer (stopping, or slow).</summary>
    private static async Task<(Dictionary<string, List<int>> Owners, List<int> Silent)> SampleAsync(HttpClient http, Member[] members)
    {
        var owners = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        var silent = new List<int>();
        for (int i = 0; i < members.Length; i++)
        {
            if (members[i].Process is null || members[i].Frozen)
            {
                continue;
            }

            string text;
            try
            {
                text = await http.GetStringAsync(new Uri($"http://127.0.0.1:{members[i].Http}/metrics"));
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                silent.Add(i); // stopping, or too slow to answer in 2 s
                continue;
            }

            foreach (Match m in UpLine().Matches(text))
            {
                (owners.TryGetValue(m.Groups[1].Value, out List<int>? list) ? list : owners[m.Groups[1].Value] = []).Add(i);
            }
        }

        return (owners, silent);
    }

    /// <summary>Every database collected, each by exactly one member.</summary>
    private static bool EachOnce(Dictionary<string, List<int>> owners) => owners.Count == Databases && owners.Values.All(o => o.Count == 1);

    /// <summary>Each of the first <paramref name="members"/> members collects at least one database.</summary>
    private static bool EveryMemberOwns(Dictionary<string, List<int>> owners, int members) =>
        Enumerable.Range(0, members).All(i => owners.Values.Any(o => o[0] == i));

    private static void AssertNoDatabaseTwice(Dictionary<string, List<int>> owners) =>
        Assert.All(owners, o => Assert.True(o.Value.Count == 1, $"database {o.Key} collected by members {string.Join(", ", o.Value)} at once"));

    /// <summary>Samples every 250 ms until <paramref name="done"/> holds; no database is ever on two members.</summary>
    private static async Task<TimeSpan> WaitAsync(HttpClient http, Member[] members, Func<Dictionary<string, List<int>>, bool> done, TimeSpan limit)
    {
        var watch = Stopwatch.StartNew();
        Dictionary<string, List<int>> owners = [];
        while (watch.Elapsed < limit)
        {
            owners = await OwnersAsync(http, members);
            AssertNoDatabaseTwice(owners);
            if (done(owners))
            {
                return watch.Elapsed;
            }

            await Task.Delay(250);
        }

        // What the live members said: a cluster that never settles says why in its log.
        string logs = string.Join("\n", members.Where(m => m.Process is not null).Select(m =>
            $"--- member on :{m.Http}\n{string.Join("\n", m.Process!.Stdout.TakeLast(40))}\n{m.Process.Stderr[^Math.Min(m.Process.Stderr.Length, 6000)..]}"));
        Assert.Fail($"not reached in {limit}: {string.Join("; ", owners.Select(o => $"{o.Key} on {string.Join(",", o.Value)}"))}\n{logs}");
        return watch.Elapsed;
    }
}
