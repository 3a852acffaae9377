using System.Text;
using AiShell.Pipeline.Server.Security;
using Microsoft.AspNetCore.Http;

namespace AiShell.Pipeline.Server.Tests;

/// <summary>Basic auth as the exporter-toolkit does it: a dummy hash for unknown users, remembered results, one bcrypt at a time.</summary>
public sealed class AccessControlTests
{
    private const string Token = "a-bearer-token-0123456789";
    private static readonly string AliceHash = BCrypt.Net.BCrypt.HashPassword("s3cret-pass", 5);

    private static AccessControl Create(string? tokenFile = null, Action<string>? log = null) =>
        new(new Dictionary<string, string> { ["alice"] = AliceHash }, [Token], tokenFile, protectHealth: false, log);

    private static HttpRequest Basic(string user, string password) =>
        Request("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

    private static HttpRequest Request(string authorization)
    {
        var context = new DefaultHttpContext();
        context.Request.Headers.Authorization = authorization;
        return context.Request;
    }

    [Fact]
    public async Task AnUnknownUser_CostsOneBcryptCheck_LikeAKnownUserWithAWrongPassword()
    {
        AccessControl access = Create();
        Assert.False(await access.IsAllowedAsync(Basic("mallory", "guess")));
        Assert.Equal(1, access.BcryptChecks);
        Assert.False(await access.IsAllowedAsync(Basic("alice", "guess")));
        Assert.Equal(2, access.BcryptChecks);
        Assert.True(await access.IsAllowedAsync(Basic("alice", "s3cret-pass")));
        Assert.Equal(3, access.BcryptChecks);
    }

    [Fact]
    public async Task Results_AreRemembered_FailuresToo_ButOnlyForTheExactCredentials()
    {
        AccessControl access = Create();
        Assert.True(await access.IsAllowedAsync(Basic("alice", "s3cret-pass")));
        Assert.False(await access.IsAllowedAsync(Basic("alice", "wrong")));
        Assert.False(await access.IsAllowedAsync(Basic("nobody", "wrong")));
        long checks = access.BcryptChecks;
        for (int i = 0; i < 10; i++)
        {
            Assert.True(await access.IsAllowedAsync(Basic("alice", "s3cret-pass")));
            Assert.False(await access.IsAllowedAsync(Basic("alice", "wrong")));
            Assert.False(await access.IsAllowedAsync(Basic("nobody", "wrong")));
        }

        Assert.Equal(checks, access.BcryptChecks);
        Assert.False(await access.IsAllowedAsync(Basic("alice", "s3cret-pasS"))); // a neighbour of a remembered success
        Assert.False(await access.IsAllowedAsync(Basic("nobody", "s3cret-pass"))); // a remembered password, another user
        Assert.Equal(checks + 2, access.BcryptChecks);
    }

    [Fact]
    public async Task AFloodOfDistinctGuesses_NeverPushesOutARememberedSuccess()
    {
        AccessControl access = Create();
        Assert.True(await access.IsAllowedAsync(Basic("alice", "s3cret-pass")));
        for (int i = 0; i < 1100; i++)
        {
            // Remembered failures are bounded and cleared when full; the success cache is apart.
            Assert.False(await access.IsAllowedAsync(Basic("mallory", "guess-" + i)));
        }

        long checks = access.BcryptChecks;
        Assert.True(await access.IsAllowedAsync(Basic("alice", "s3cret-pass")));
        Assert.Equal(checks, access.BcryptChecks);
    }

    [Fact]
    public async Task ConcurrentGuesses_RunBcryptOneAtATime_AndTheOverflowIsRefusedWithoutWork()
    {
        // Cost 8 (~20 ms a check): all 200 guesses arrive while the first check still runs.
        var access = new AccessControl(new Dictionary<string, string> { ["bob"] = BCrypt.Net.BCrypt.HashPassword("pw", 8) }, [], null, false);
        using var start = new ManualResetEventSlim();
        Task<bool>[] guesses = [.. Enumerable.Range(0, 200).Select(i => Task.Run(async () =>
        {
            start.Wait();
            return await access.IsAllowedAsync(Basic("bob", "guess-" + i));
        }))];
        start.Set();
        bool[] results = await Task.WhenAll(guesses);
        Assert.DoesNotContain(true, results);
        Assert.Equal(1, access.PeakConcurrentChecks);
        // Every guess is distinct: each either ran bcrypt or was refused as overflow without it.
        Assert.InRange(access.BcryptChecks, 1, 150);
    }

    [Fact]
    public async Task BearerTokens_ListedAndFromAFile_ShortFileTokensRefusedAndLogged()
    {
        string file = Path.GetTempFileName();
        var log = new List<string>();
        try
        {
            await File.WriteAllTextAsync(file, "short\nfile-token-0123456789\n");
            AccessControl access = Create(file, log.Add);
            Assert.True(await access.IsAllowedAsync(Request("Bearer " + Token)));
            Assert.True(await access.IsAllowedAsync(Request("Bearer file-token-0123456789")));
            Assert.False(await access.IsAllowedAsync(Request("Bearer short")));
            Assert.Contains(log, l => l.Contains("1 token(s) shorter than 16 characters refused", StringComparison.Ordinal));

            File.Delete(file);
            Assert.False(await access.IsAllowedAsync(Request("Bearer file-token-0123456789")));
            Assert.True(await access.IsAllowedAsync(Request("Bearer " + Token)));
            Assert.Single(log, l => l.Contains("is missing", StringComparison.Ordinal)); // once, not per request
        }
        finally
        {
            File.Delete(file);
        }
    }
}
