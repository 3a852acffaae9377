using YamlDotNet.RepresentationModel;

namespace AiShell.Pipeline.Configuration;

/// <summary>Reads <c>prometheus.web</c> (the exporter-toolkit web-config shape Prometheus exporters share).</summary>
internal static class WebConfigParser
{
    private static readonly string[] Fields = ["tls_server_config", "basic_auth_users", "bearer_tokens", "bearer_token_file", "protect_health"];

    public static string? Apply(ExporterConfig config, YamlNode node)
    {
        if (node is not YamlMappingNode map)
        {
            return "must be a mapping (tls_server_config, basic_auth_users, bearer_tokens, bearer_token_file, protect_health)";
        }

        WebConfig web = config.Web;
        foreach ((YamlNode keyNode, YamlNode value) in map.Children)
        {
            string key = ConfigKeys.Describe(keyNode);
            string? error = key switch
            {
                "tls_server_config" => Tls(web, value),
                "basic_auth_users" => Users(web, value),
                "bearer_tokens" => Tokens(web, value),
                "bearer_token_file" => value is YamlScalarNode { Value: { Length: > 0 } f } ? Set(() => web.BearerTokenFile = f) : "bearer_token_file must be a path",
                "protect_health" => value is YamlScalarNode { Value: { } b } && Scalars.TryBool(b, out bool p) ? Set(() => web.ProtectHealth = p) : "protect_health must be true or false",
                _ => $"unknown field '{key}' (expected {string.Join(", ", Fields)})",
            };
            if (error is not null)
            {
                return error;
            }
        }

        return (web.TlsCertFile is null) != (web.TlsKeyFile is null) ? "tls_server_config needs both cert_file and key_file" : null;
    }

    /// <summary>Users and hash counts only: hashes and tokens are secrets and are never shown.</summary>
    public static string Show(ExporterConfig config) =>
        $"tls: {(config.Web.TlsCertFile is null ? "off" : "on")}, basic_auth_users: {config.Web.BasicAuthUsers.Count}, " +
        $"bearer tokens: {config.Web.BearerTokens.Count + (config.Web.BearerTokenFile is null ? 0 : 1)}, protect_health: {(config.Web.ProtectHealth ? "true" : "false")}";

    private static string? Tls(WebConfig web, YamlNode node)
    {
        if (node is not YamlMappingNode tls)
        {
            return "tls_server_config must be a mapping with cert_file and key_file";
        }

        foreach ((YamlNode k, YamlNode v) in tls.Children)
        {
            string name = ConfigKeys.Describe(k);
            string path = ConfigKeys.Describe(v);
            switch (name)
            {
                case "cert_file": web.TlsCertFile = path; break;
                case "key_file": web.TlsKeyFile = path; break;
                default: return $"tls_server_config: unknown field '{name}' (expected cert_file, key_file)";
            }
        }

        return null;
    }

    private static string? Users(WebConfig web, YamlNode node)
    {
        if (node is not YamlMappingNode users)
        {
            return "basic_auth_users must map user names to bcrypt hashes";
        }

        foreach ((YamlNode k, YamlNode v) in users.Children)
        {
            string user = ConfigKeys.Describe(k);
            string hash = ConfigKeys.Describe(v);
            if (user.Length == 0 || user.Contains(':', StringComparison.Ordinal))
            {
                return $"basic_auth_users: '{user}' is not a usable user name";
            }

            if (!(hash.StartsWith("$2a$", StringComparison.Ordinal) || hash.StartsWith("$2b$", StringComparison.Ordinal) || hash.StartsWith("$2y$", StringComparison.Ordinal)) || hash.Length != 60)
            {
                return $"basic_auth_users: the hash for '{user}' is not a bcrypt hash (htpasswd -nbB USER PASSWORD)";
            }

            web.BasicAuthUsers[user] = hash;
        }

        return null;
    }

    private static string? Tokens(WebConfig web, YamlNode node)
    {
        if (node is not YamlSequenceNode seq)
        {
            return "bearer_tokens must be a list";
        }

        foreach (YamlNode t in seq)
        {
            string token = ConfigKeys.Describe(t);
            if (token.Length < 16)
            {
                return "bearer_tokens: each token needs at least 16 characters";
            }

            web.BearerTokens.Add(token);
        }

        return null;
    }

    private static string? Set(Action action)
    {
        action();
        return null;
    }
}
