using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace AiShell.Pipeline.Server.Security;

/// <summary>
/// Who may call the endpoints: HTTP basic auth against bcrypt hashes (what <c>htpasswd -nbB</c>
/// writes) and bearer tokens (listed, or one per line in a file that is re-read when it changes).
/// Basic auth behaves like the Prometheus exporter-toolkit's:
/// <list type="bullet">
/// <item>an unknown user is checked against a dummy hash of the users' highest cost, so the answer
/// takes as long as for a known user with a wrong password (timing does not tell which users exist);</item>
/// <item>results are remembered, failures too, keyed by the SHA-256 of user, stored hash and
/// password: only the exact same credentials hit an entry, so a hit cannot be forged. Successes and
/// failures are kept apart, so a flood of wrong passwords cannot push a scraper's entry out;</item>
/// <item>bcrypt runs one check at a time, awaited without holding a thread, and at most
/// <see cref="MaxQueued"/> checks wait: a flood of guesses costs at most one core and refuses the
/// overflow at once, while remembered scrapers never wait.</item>
/// </list>
/// </summary>
public sealed class AccessControl
{
    private const int MaxRemembered = 1024;

    /// <summary>Basic-auth checks that may wait for the bcrypt slot; more are refused without a check.</summary>
    internal const int MaxQueued = 64;

    private readonly IReadOnlyDictionary<string, string> _users;
    private readonly byte[][] _tokens;
    private readonly string? _tokenFile;
    private readonly Action<string>? _log;
    private readonly ConcurrentDictionary<string, byte> _succeeded = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _failed = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _bcrypt = new(1, 1);
    private readonly Lazy<string> _dummyHash;
    private int _queued;
    private long _bcryptChecks;
    private int _running, _peakRunning;
    private (DateTime Stamp, byte[][] Tokens) _fileTokens = (DateTime.MinValue, []);
    private bool _tokenFileMissingLogged;

    /// <param name="log">Where a missing or unreadable bearer_token_file is reported (once per state change).</param>
    public AccessControl(IReadOnlyDictionary<string, string> users, IReadOnlyList<string> tokens, string? tokenFile, bool protectHealth,
        Action<string>? log = null)
    {
        _users = users;
        _tokens = [.. tokens.Select(Encoding.UTF8.GetBytes)];
        _tokenFile = tokenFile;
        _log = log;
        ProtectHealth = protectHealth;
        // Made on the first unknown user, not at start: a cost-10 hash takes ~80 ms here.
        _dummyHash = new Lazy<string>(() => BCrypt.Net.BCrypt.HashPassword(Convert.ToBase64String(RandomNumberGenerator.GetBytes(18)), HighestCost(users)));
    }

    public bool ProtectHealth { get; }

    /// <summary>bcrypt verifications done so far (cache hits and refused overflow excluded).</summary>
    internal long BcryptChecks => Interlocked.Read(ref _bcryptChecks);

    /// <summary>The most bcrypt checks that ever ran at once (1 by design).</summary>
    internal int PeakConcurrentChecks => Volatile.Read(ref _peakRunning);

    public ValueTask<bool> IsAllowedAsync(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        string header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return ValueTask.FromResult(TokenMatches(Encoding.UTF8.GetBytes(header[7..].Trim())));
        }

        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase) || _users.Count == 0)
        {
            return ValueTask.FromResult(false);
        }

        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
        }
        catch (FormatException)
        {
            return ValueTask.FromResult(false);
        }

        int colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            return ValueTask.FromResult(false);
        }

        string user = decoded[..colon], password = decoded[(colon + 1)..];
        bool known = _users.TryGetValue(user, out string? hash);
        hash ??= _dummyHash.Value;
        string key = CacheKey(user, hash, password);
        if (_succeeded.ContainsKey(key))
        {
            return ValueTask.FromResult(true);
        }

        return _failed.ContainsKey(key) ? ValueTask.FromResult(false) : VerifyAsync(key, known, password, hash, request.HttpContext.RequestAborted);
    }

    private async ValueTask<bool> VerifyAsync(string key, bool known, string password, string hash, CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref _queued) > MaxQueued)
        {
            Interlocked.Decrement(ref _queued);
            return false; // a flood: refuse without the work, remember nothing
        }

        bool ok;
        try
        {
            await _bcrypt.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                Interlocked.Increment(ref _bcryptChecks);
                int running = Interlocked.Increment(ref _running);
                if (running > Volatile.Read(ref _peakRunning))
                {
                    Volatile.Write(ref _peakRunning, running);
                }

                ok = VerifyBcrypt(password, hash) && known;
            }
            finally
            {
                Interlocked.Decrement(ref _running);
                _bcrypt.Release();
            }
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        finally
        {
            Interlocked.Decrement(ref _queued);
        }

        Remember(ok ? _succeeded : _failed, key);
        return ok;
    }

    private static void Remember(ConcurrentDictionary<string, byte> cache, string key)
    {
        if (cache.Count >= MaxRemembered)
        {
            cache.Clear(); // bounded; the next check of a cleared entry pays one bcrypt again
        }

        cache.TryAdd(key, 0);
    }

    private static string CacheKey(string user, string hash, string password)
    {
        byte[] bytes = Encoding.UTF8.GetBytes($"{user}\0{hash}\0{password}");
        return Convert.ToHexString(SHA256.HashData(bytes));
    }

    /// <summary>The cost of the costliest hash ("$2y$10$..." → 10), so the dummy check takes as long as the slowest real one.</summary>
    private static int HighestCost(IReadOnlyDictionary<string, string> users)
    {
        int cost = 4;
        foreach (string hash in users.Values)
        {
            if (hash.Length > 6 && int.TryParse(hash.AsSpan(4, 2), out int c))
            {
                cost = Math.Max(cost, Math.Min(c, 31));
            }
        }

        return cost;
    }

    private static bool VerifyBcrypt(string password, string hash)
    {
        try
        {
            return BCrypt.Net.BCrypt.Verify(password, hash);
        }
        catch (BCrypt.Net.SaltParseException)
        {
            return false;
        }
    }

    private bool TokenMatches(byte[] presented)
    {
        bool match = false;
        foreach (byte[] token in _tokens)
        {
            match |= CryptographicOperations.FixedTimeEquals(token, presented);
        }

        foreach (byte[] token in FileTokens())
        {
            match |= CryptographicOperations.FixedTimeEquals(token, presented);
        }

        return match;
    }

    /// <summary>The tokens of a <c>bearer_token_file</c>: one per non-empty line, surrounding spaces trimmed.</summary>
    public static IEnumerable<string> ReadTokenFile(string path) =>
        File.ReadLines(path).Select(static l => l.Trim()).Where(static l => l.Length > 0);

    private byte[][] FileTokens()
    {
        if (_tokenFile is null)
        {
            return [];
        }

        if (!File.Exists(_tokenFile))
        {
            if (!_tokenFileMissingLogged)
            {
                _tokenFileMissingLogged = true;
                _log?.Invoke($"warning: bearer_token_file {_tokenFile} is missing: its tokens are refused until it is back");
            }

            return [];
        }

        _tokenFileMissingLogged = false;
        DateTime stamp = File.GetLastWriteTimeUtc(_tokenFile);
        (DateTime Stamp, byte[][] Tokens) cached = _fileTokens;
        if (cached.Stamp == stamp)
        {
            return cached.Tokens;
        }

        byte[][] tokens;
        try
        {
            List<string> lines = [.. ReadTokenFile(_tokenFile)];
            tokens = [.. lines.Where(static t => t.Length >= MinTokenLength).Select(Encoding.UTF8.GetBytes)];
            if (tokens.Length < lines.Count)
            {
                _log?.Invoke($"warning: bearer_token_file {_tokenFile}: {lines.Count - tokens.Length} token(s) shorter than {MinTokenLength} characters refused");
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _log?.Invoke($"warning: cannot read bearer_token_file {_tokenFile}: {ex.Message}; keeping its previous tokens");
            return cached.Tokens;
        }

        _fileTokens = (stamp, tokens);
        return tokens;
    }

    /// <summary>The shortest bearer token accepted, listed or in a file (16 characters, as bearer_tokens demands).</summary>
    public const int MinTokenLength = 16;
}
