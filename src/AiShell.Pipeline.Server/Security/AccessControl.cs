using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace AiShell.Pipeline.Server.Security;

/// <summary>
/// Who may call the endpoints: HTTP basic auth against bcrypt hashes (what <c>htpasswd -nbB</c>
/// writes) and bearer tokens (listed, or one per line in a file that is re-read when it changes).
/// A successful basic-auth header is remembered (by its SHA-256) so a scraper does not pay bcrypt's
/// cost on every scrape; failures are never remembered, so guessing stays expensive.
/// </summary>
public sealed class AccessControl
{
    private const int MaxRemembered = 1024;
    private readonly IReadOnlyDictionary<string, string> _users;
    private readonly byte[][] _tokens;
    private readonly string? _tokenFile;
    private readonly ConcurrentDictionary<string, byte> _verified = new(StringComparer.Ordinal);
    private (DateTime Stamp, byte[][] Tokens) _fileTokens = (DateTime.MinValue, []);

    public AccessControl(IReadOnlyDictionary<string, string> users, IReadOnlyList<string> tokens, string? tokenFile, bool protectHealth)
    {
        _users = users;
        _tokens = [.. tokens.Select(Encoding.UTF8.GetBytes)];
        _tokenFile = tokenFile;
        ProtectHealth = protectHealth;
    }

    public bool ProtectHealth { get; }

    public bool IsAllowed(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        string header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return TokenMatches(Encoding.UTF8.GetBytes(header[7..].Trim()));
        }

        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase) || _users.Count == 0)
        {
            return false;
        }

        string key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(header)));
        if (_verified.ContainsKey(key))
        {
            return true;
        }

        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
        }
        catch (FormatException)
        {
            return false;
        }

        int colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || !_users.TryGetValue(decoded[..colon], out string? hash) || !VerifyBcrypt(decoded[(colon + 1)..], hash))
        {
            return false;
        }

        if (_verified.Count < MaxRemembered)
        {
            _verified.TryAdd(key, 0);
        }

        return true;
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
        foreach (byte[] token in _tokens)
        {
            if (CryptographicOperations.FixedTimeEquals(token, presented))
            {
                return true;
            }
        }

        foreach (byte[] token in FileTokens())
        {
            if (CryptographicOperations.FixedTimeEquals(token, presented))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The tokens of a <c>bearer_token_file</c>: one per non-empty line, surrounding spaces trimmed.</summary>
    public static IEnumerable<string> ReadTokenFile(string path) =>
        File.ReadLines(path).Select(static l => l.Trim()).Where(static l => l.Length > 0);

    private byte[][] FileTokens()
    {
        if (_tokenFile is null || !File.Exists(_tokenFile))
        {
            return [];
        }

        DateTime stamp = File.GetLastWriteTimeUtc(_tokenFile);
        (DateTime Stamp, byte[][] Tokens) cached = _fileTokens;
        if (cached.Stamp == stamp)
        {
            return cached.Tokens;
        }

        byte[][] tokens = [.. ReadTokenFile(_tokenFile).Select(Encoding.UTF8.GetBytes)];
        _fileTokens = (stamp, tokens);
        return tokens;
    }
}
