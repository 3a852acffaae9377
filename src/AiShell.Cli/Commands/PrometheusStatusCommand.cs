using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using AiShell.Pipeline.Configuration;

namespace AiShell.Cli.Commands;

/// <summary>
/// <c>aishell prometheus status [--config FILE] [--port N] [--host H] [credentials]</c>: asks the
/// running exporter's <c>/api/v1/status</c> and prints its health. Exit 0 when it answers, 1 when it
/// cannot be reached or refuses. Against a protected exporter (<c>prometheus.web</c>) it speaks HTTPS
/// when the config has a certificate, and sends a bearer token (<c>--bearer-token-file</c>, else the
/// config's first <c>bearer_tokens</c> entry or its <c>bearer_token_file</c>) or basic auth
/// (<c>--user</c> with <c>--password-file</c> or <c>AISHELL_PASSWORD</c>; the config holds only hashes).
/// </summary>
internal static class PrometheusStatusCommand
{
    public static Command Create()
    {
        Option<string?> config = CliOptions.Config();
        Option<int?> port = CliOptions.Port("Port of the running exporter (default: prometheus.port).");
        Option<string?> host = CliOptions.Host("Host of the running exporter (default: prometheus.host, wildcards as localhost).");
        var tokenFile = new Option<string?>("--bearer-token-file") { Description = "File holding a bearer token for a protected exporter." };
        var user = new Option<string?>("--user") { Description = "Basic-auth user for a protected exporter (password from --password-file or AISHELL_PASSWORD)." };
        var passwordFile = new Option<string?>("--password-file") { Description = "File holding the --user password." };
        var insecure = new Option<bool>("--insecure") { Description = "Accept any TLS certificate (a self-signed one on localhost)." };
        var command = new Command("status", "Show the health of a running exporter.") { config, port, host, tokenFile, user, passwordFile, insecure };
        command.SetAction((result, ct) => RunAsync(result.GetValue(config), result.GetValue(port), result.GetValue(host),
            new Credentials(result.GetValue(tokenFile), result.GetValue(user), result.GetValue(passwordFile), result.GetValue(insecure)), ct));
        return command;
    }

    private sealed record Credentials(string? TokenFile, string? User, string? PasswordFile, bool Insecure);

    private static async Task<int> RunAsync(string? configPath, int? port, string? host, Credentials credentials, CancellationToken cancellationToken)
    {
        ExporterConfig config;
        try
        {
            config = ConfigLoader.Load(configPath);
        }
        catch (ConfigException ex)
        {
            await Console.Error.WriteLineAsync($"✗ {ex.Message}");
            return 2;
        }

        string target = CliOptions.DisplayHost(host ?? config.Host);
        int targetPort = port ?? config.Port;
        string scheme = config.Web.TlsCertFile is null ? "http" : "https";
        var url = new Uri($"{scheme}://{(target == "localhost" ? "127.0.0.1" : target)}:{targetPort}/api/v1/status");
        using var handler = new HttpClientHandler();
        if (credentials.Insecure)
        {
            handler.ServerCertificateCustomValidationCallback = static (_, _, _, _) => true;
        }

        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(3) };
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        try
        {
            request.Headers.Authorization = Authorization(config.Web, credentials);
        }
        catch (IOException ex)
        {
            await Console.Error.WriteLineAsync($"✗ {ex.Message}");
            return 2;
        }

        string body;
        try
        {
            using HttpResponseMessage response = await http.SendAsync(request, cancellationToken);
            body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                string hint = response.StatusCode == System.Net.HttpStatusCode.Unauthorized
                    ? (request.Headers.Authorization is null
                        ? ": it needs credentials (--bearer-token-file, or --user with --password-file or AISHELL_PASSWORD)"
                        : ": the credentials were refused")
                    : "";
                await Console.Error.WriteLineAsync($"✗ Exporter at {target}:{targetPort} answered {(int)response.StatusCode}{hint}");
                return 1;
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            await Console.Error.WriteLineAsync($"✗ Prometheus exporter not reachable at {scheme}://{target}:{targetPort} ({ex.GetBaseException().Message})");
            return 1;
        }

        try
        {
            Print(body, $"{scheme}://{target}:{targetPort}");
            await PrintClusterAsync(body, http, scheme, request.Headers.Authorization, cancellationToken);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            await Console.Error.WriteLineAsync($"✗ {target}:{targetPort} answered, but not with an aishell status document");
            return 1;
        }

        return 0;
    }

    /// <summary>Explicit credentials first, then a token the config holds in the clear; null when none.</summary>
    private static System.Net.Http.Headers.AuthenticationHeaderValue? Authorization(WebConfig web, Credentials credentials)
    {
        if (credentials.TokenFile is { } tokenFile)
        {
            return new("Bearer", ReadSecret(tokenFile, "--bearer-token-file"));
        }

        if (credentials.User is { } user)
        {
            string password = credentials.PasswordFile is { } file ? ReadSecret(file, "--password-file")
                : Environment.GetEnvironmentVariable("AISHELL_PASSWORD") is { Length: > 0 } env ? env
                : throw new IOException("--user needs --password-file or AISHELL_PASSWORD");
            return new("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{user}:{password}")));
        }

        if (web.BearerTokens.Count > 0)
        {
            return new("Bearer", web.BearerTokens[0]);
        }

        return web.BearerTokenFile is { } configured ? new("Bearer", ReadSecret(configured, "prometheus.web.bearer_token_file")) : null;
    }

    private static string ReadSecret(string path, string what)
    {
        try
        {
            // The first token: a token file may list several, read as the exporter reads them.
            string? secret = Pipeline.Server.Security.AccessControl.ReadTokenFile(path).FirstOrDefault();
            return secret ?? throw new IOException($"{what}: {path} is empty");
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or FileNotFoundException or DirectoryNotFoundException)
        {
            throw new IOException($"{what}: cannot read {path} ({ex.GetType().Name})", ex);
        }
    }

    private static void Print(string body, string origin)
    {
        using JsonDocument doc = JsonDocument.Parse(body);
        JsonElement root = doc.RootElement;
        bool ready = root.GetProperty("ready").GetBoolean();
        Console.WriteLine($"✓ Prometheus exporter running (version {root.GetProperty("version").GetString()}, up {Duration(root.GetProperty("uptime_seconds").GetDouble())})");
        Console.WriteLine($"  Metrics endpoint: {origin}{root.GetProperty("metrics_path").GetString()}");
        Console.WriteLine($"  Ready:            {(ready ? "yes" : "no")}");
        Console.WriteLine($"  Series:           {root.GetProperty("series").GetInt32()}");
        Console.WriteLine($"  Scrapes:          {root.GetProperty("scrapes").GetInt64()} (last took {root.GetProperty("last_scrape_duration_seconds").GetDouble() * 1000:0.###} ms)");
        Console.WriteLine("  Collectors:");
        foreach (JsonElement c in root.GetProperty("collectors").EnumerateArray())
        {
            bool up = c.GetProperty("up").GetBoolean();
            string name = c.GetProperty("name").GetString() + (c.GetProperty("database").GetString() is { Length: > 0 } db ? "/" + db : "");
            string detail = up
                ? $"last success {c.GetProperty("last_success").GetString()}, took {c.GetProperty("last_duration_seconds").GetDouble() * 1000:0.###} ms"
                : $"DOWN: {c.GetProperty("last_error").GetString() ?? "no successful run yet"}";
            Console.WriteLine($"    {(up ? "✓" : "✗")} {name}: {detail} (failures: {c.GetProperty("failures_total").GetInt64()})");
        }
    }

    /// <summary>
    /// A cluster member's status also lists the members it sees; each live one is asked (same
    /// scheme and credentials: members share a config) for the databases it collects.
    /// </summary>
    private static async Task PrintClusterAsync(string body, HttpClient http, string scheme,
        System.Net.Http.Headers.AuthenticationHeaderValue? authorization, CancellationToken cancellationToken)
    {
        using JsonDocument doc = JsonDocument.Parse(body);
        if (!doc.RootElement.TryGetProperty("cluster", out JsonElement cluster))
        {
            return;
        }

        string self = cluster.GetProperty("self").GetString()!;
        JsonElement[] members = [.. cluster.GetProperty("members").EnumerateArray()];
        Console.WriteLine($"  Cluster '{cluster.GetProperty("name").GetString()}': {members.Length} member(s), this one {self}");
        foreach (JsonElement m in members)
        {
            string address = m.GetProperty("address").GetString()!;
            string member = m.GetProperty("http").GetString()!;
            string status = m.GetProperty("status").GetString()!;
            string databases = address == self ? Databases(cluster)
                : status is "up" or "weaklyup" or "joining" or "leaving" ? await MemberDatabasesAsync(http, $"{scheme}://{member}/api/v1/status", authorization, cancellationToken)
                : "-";
            Console.WriteLine($"    {(status is "up" or "weaklyup" ? "✓" : "✗")} {member} ({status}{(address == self ? ", this one" : "")}): {databases}");
        }
    }

    private static async Task<string> MemberDatabasesAsync(HttpClient http, string url, System.Net.Http.Headers.AuthenticationHeaderValue? authorization,
        CancellationToken cancellationToken)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Authorization = authorization;
            using HttpResponseMessage response = await http.SendAsync(request, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return $"its status answered {(int)response.StatusCode}";
            }

            using JsonDocument doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            return doc.RootElement.TryGetProperty("cluster", out JsonElement cluster) ? Databases(cluster) : "not a cluster member";
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException)
        {
            return $"not reachable ({ex.GetBaseException().Message})";
        }
    }

    private static string Databases(JsonElement cluster)
    {
        string[] names = [.. cluster.GetProperty("databases").EnumerateArray().Select(static d => d.GetString()!)];
        return names.Length == 0 ? "no databases" : $"{names.Length} database(s): {string.Join(", ", names)}";
    }

    private static string Duration(double seconds) =>
        seconds < 120 ? seconds.ToString("0.#", CultureInfo.InvariantCulture) + "s"
            : TimeSpan.FromSeconds(seconds).ToString(@"d\.hh\:mm\:ss", CultureInfo.InvariantCulture);
}
