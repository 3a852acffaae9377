using YamlDotNet.RepresentationModel;

namespace AiShell.Pipeline.Configuration;

/// <summary>Reads <c>prometheus.web</c> (the exporter-toolkit web-config shape Prometheus exporters share).</summary>
internal static class WebConfigParser
{
    private static readonly string[] Fields = ["tls_server_config", "basic_auth_users", "bearer_tokens", "bearer_token_file", "protect_health"];

    public static void Apply(ExporterConfig config, YamlNode node, ValueProblems problems)
    {
        if (node is not YamlMappingNode map)
        {
            problems.Add(node, "must be a mapping (tls_server_config, basic_auth_users, bearer_tokens, bearer_token_file, protect_health)");
            return;
        }

        WebConfig web = config.Web;
        foreach ((YamlNode keyNode, YamlNode value) in map.Children)
        {
            string key = ConfigKeys.Describe(keyNode);
            config.Lines["prometheus.web." + key] = value.Start.Line;
            switch (key)
            {
                case "tls_server_config": Tls(config, value, problems); break;
                case "basic_auth_users": Users(web, value, problems); break;
                case "bearer_tokens": Tokens(web, value, problems); break;
                case "bearer_token_file" when value is YamlScalarNode { Value: { Length: > 0 } file }: web.BearerTokenFile = file; break;
                case "bearer_token_file": problems.Add(value, "must be a path", ".bearer_token_file"); break;
                case "protect_health" when value is YamlScalarNode { Value: { } b } && Scalars.TryBool(b, out bool p): web.ProtectHealth = p; break;
                case "protect_health": problems.Add(value, "must be true or false", ".protect_health"); break;
                default: problems.Add(keyNode, $"unknown field (expected {string.Join(", ", Fields)})", "." + key); break;
            }
        }

        if ((web.TlsCertFile is null) != (web.TlsKeyFile is null))
        {
            problems.Add(node, "needs both cert_file and key_file", ".tls_server_config");
        }
    }

    /// <summary>Users and hash counts only: hashes and tokens are secrets and are never shown.</summary>
    public static string Show(ExporterConfig config) =>
        $"tls: {(config.Web.TlsCertFile is null ? "off" : "on")}, basic_auth_users: {config.Web.BasicAuthUsers.Count}, " +
        $"bearer tokens: {config.Web.BearerTokens.Count + (config.Web.BearerTokenFile is null ? 0 : 1)}, protect_health: {(config.Web.ProtectHealth ? "true" : "false")}";

    private static void Tls(ExporterConfig config, YamlNode node, ValueProblems problems)
    {
        if (node is not YamlMappingNode tls)
        {
            problems.Add(node, "must be a mapping with cert_file and key_file", ".tls_server_config");
            return;
        }

        foreach ((YamlNode k, YamlNode v) in tls.Children)
        {
            string name = ConfigKeys.Describe(k);
            config.Lines["prometheus.web.tls_server_config." + name] = v.Start.Line;
            switch (name)
            {
                case "cert_file": config.Web.TlsCertFile = ConfigKeys.Describe(v); break;
                case "key_file": config.Web.TlsKeyFile = ConfigKeys.Describe(v); break;
                default: problems.Add(k, "unknown field (expected cert_file, key_file)", ".tls_server_config." + name); break;
            }
        }
    }

    private static void Users(WebConfig web, YamlNode node, ValueProblems problems)
    {
        if (node is not YamlMappingNode users)
        {
            problems.Add(node, "must map user names to bcrypt hashes", ".basic_auth_users");
            return;
        }

        foreach ((YamlNode k, YamlNode v) in users.Children)
        {
            string user = ConfigKeys.Describe(k);
            string hash = ConfigKeys.Describe(v);
            if (user.Length == 0 || user.Contains(':', StringComparison.Ordinal))
            {
                problems.Add(k, $"'{user}' is not a usable user name", ".basic_auth_users");
            }
            else if (!(hash.StartsWith("$2a$", StringComparison.Ordinal) || hash.StartsWith("$2b$", StringComparison.Ordinal) || hash.StartsWith("$2y$", StringComparison.Ordinal)) || hash.Length != 60)
            {
                problems.Add(v, $"the hash for '{user}' is not a bcrypt hash (htpasswd -nbB USER PASSWORD)", ".basic_auth_users");
            }
            else
            {
                web.BasicAuthUsers[user] = hash;
            }
        }
    }

    private static void Tokens(WebConfig web, YamlNode node, ValueProblems problems)
    {
        if (node is not YamlSequenceNode seq)
        {
            problems.Add(node, "must be a list", ".bearer_tokens");
            return;
        }

        int index = 0;
        foreach (YamlNode t in seq)
        {
            string token = ConfigKeys.Describe(t);
            if (token.Length < WebConfig.MinTokenLength)
            {
                problems.Add(t, $"each token needs at least {WebConfig.MinTokenLength} characters", $".bearer_tokens[{index}]");
            }
            else
            {
                web.BearerTokens.Add(token);
            }

            index++;
        }
    }
}
