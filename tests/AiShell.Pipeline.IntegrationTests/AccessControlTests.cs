using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using AiShell.Pipeline.IntegrationTests.Harness;

namespace AiShell.Pipeline.IntegrationTests;

/// <summary>prometheus.web: basic auth with htpasswd's bcrypt hashes, bearer tokens, and TLS picked up again when the files change.</summary>
public sealed class AccessControlTests
{
    private const string Token = "t0ken-for-tests-0123456789";

    private static async Task<string> BcryptAsync(string user, string password)
    {
        RunResult result = await ProcessRunner.RunAsync("htpasswd", ["-nbB", user, password]);
        Assert.True(result.ExitCode == 0, result.All);
        return result.Stdout.Trim().Split(':', 2)[1];
    }

    private static AuthenticationHeaderValue Basic(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

    /// <summary>An exporter that lets in alice (password s3cret-pass) and <see cref="Token"/>.</summary>
    private static async Task<ExporterProcess> StartProtectedAsync()
    {
        string hash = await BcryptAsync("alice", "s3cret-pass");
        return await ExporterProcess.StartAsync($"""
            prometheus:
              web:
                basic_auth_users:
                  alice: '{hash}'
                bearer_tokens: ['{Token}']
            """);
    }

    [Fact]
    public async Task Endpoints_Need_BasicAuthOrABearerToken_ButHealthzStaysOpen()
    {
        await using ExporterProcess exporter = await StartProtectedAsync();
        using var http = new HttpClient();
        foreach (string path in new[] { "/metrics", "/api/v1/status", "/api/v1/targets", "/ready" })
        {
            HttpResponseMessage anonymous = await http.GetAsync(new Uri(exporter.BaseUrl, path));
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
            Assert.Contains("Basic", anonymous.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, (await http.PostAsync(new Uri(exporter.BaseUrl, "/api/v1/events"),
            new StringContent("{\"kind\":\"feature\",\"feature\":\"x\"}\n"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri(exporter.BaseUrl, "/healthz"))).StatusCode);

        async Task<HttpStatusCode> WithAsync(AuthenticationHeaderValue auth)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, exporter.MetricsUrl);
            request.Headers.Authorization = auth;
            return (await http.SendAsync(request)).StatusCode;
        }

        Assert.Equal(HttpStatusCode.OK, await WithAsync(Basic("alice", "s3cret-pass")));
        Assert.Equal(HttpStatusCode.OK, await WithAsync(Basic("alice", "s3cret-pass"))); // remembered: no second bcrypt
        Assert.Equal(HttpStatusCode.Unauthorized, await WithAsync(Basic("alice", "wrong")));
        Assert.Equal(HttpStatusCode.Unauthorized, await WithAsync(Basic("mallory", "s3cret-pass")));
        Assert.Equal(HttpStatusCode.OK, await WithAsync(new AuthenticationHeaderValue("Bearer", Token)));
        Assert.Equal(HttpStatusCode.Unauthorized, await WithAsync(new AuthenticationHeaderValue("Bearer", Token + "x")));
    }

    [Fact]
    public async Task StatusCommand_SendsTheConfigsToken_OrBasicAuth_AndExplainsA401()
    {
        await using ExporterProcess exporter = await StartProtectedAsync();
        string port = exporter.MetricsUrl.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        string config = Path.Combine(exporter.Home, "exporter.yaml");
        var env = ExporterProcess.Env(exporter.Home);
        string[] common = ["prometheus", "status", "--host", "127.0.0.1", "--port", port];

        RunResult withConfig = await ProcessRunner.RunAsync(NativeBinary.Path, [.. common, "--config", config], env);
        Assert.True(withConfig.ExitCode == 0, withConfig.All);
        Assert.Contains("Prometheus exporter running", withConfig.Stdout, StringComparison.Ordinal);

        RunResult anonymous = await ProcessRunner.RunAsync(NativeBinary.Path, common, env);
        Assert.Equal(1, anonymous.ExitCode);
        Assert.Contains("answered 401: it needs credentials", anonymous.Stderr, StringComparison.Ordinal);

        string passwordFile = Path.Combine(exporter.Home, "pw");
        await File.WriteAllTextAsync(passwordFile, "s3cret-pass\n");
        RunResult basic = await ProcessRunner.RunAsync(NativeBinary.Path, [.. common, "--user", "alice", "--password-file", passwordFile], env);
        Assert.True(basic.ExitCode == 0, basic.All);

        await File.WriteAllTextAsync(passwordFile, "wrong\n");
        RunResult refused = await ProcessRunner.RunAsync(NativeBinary.Path, [.. common, "--user", "alice", "--password-file", passwordFile], env);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("the credentials were refused", refused.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong", refused.All, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProtectHealth_TakesHealthzBehindTheSameCredentials()
    {
        await using ExporterProcess exporter = await ExporterProcess.StartAsync($"""
            prometheus:
              web:
                bearer_tokens: ['{Token}']
                protect_health: true
            """);
        using var http = new HttpClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync(new Uri(exporter.BaseUrl, "/healthz"))).StatusCode);
    }

    [Fact]
    public async Task Tls_ServesTheCertificate_AndPicksUpANewOneWhenTheFilesChange()
    {
        string dir = Directory.CreateTempSubdirectory("aishell-tls-").FullName;
        try
        {
            string cert = Path.Combine(dir, "server.crt"), key = Path.Combine(dir, "server.key");
            async Task<string> MakeCertificateAsync(string name)
            {
                RunResult made = await ProcessRunner.RunAsync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", $"/CN={name}", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert]);
                Assert.True(made.ExitCode == 0, made.All);
                using X509Certificate2 c = X509CertificateLoader.LoadCertificateFromFile(cert);
                return c.Thumbprint;
            }

            string first = await MakeCertificateAsync("aishell-first");
            await using ExporterProcess exporter = await ExporterProcess.StartAsync($"""
                prometheus:
                  web:
                    tls_server_config:
                      cert_file: {cert}
                      key_file: {key}
                """);
            Assert.Equal("https", exporter.MetricsUrl.Scheme);

            async Task<string> ServedThumbprintAsync()
            {
                string? seen = null;
                using var handler = new HttpClientHandler
                {
                    ServerCertificateCustomValidationCallback = (_, c, _, _) =>
                    {
                        seen = c!.Thumbprint;
                        return true; // a self-signed test certificate: the thumbprint is checked instead
                    },
                };
                using var https = new HttpClient(handler);
                Assert.Equal(HttpStatusCode.OK, (await https.GetAsync(exporter.MetricsUrl)).StatusCode);
                return seen!;
            }

            Assert.Equal(first, await ServedThumbprintAsync());
            string second = await MakeCertificateAsync("aishell-second");
            Assert.NotEqual(first, second);
            string served = first;
            for (int i = 0; i < 40 && served != second; i++)
            {
                await Task.Delay(100);
                served = await ServedThumbprintAsync();
            }

            Assert.Equal(second, served);

            // Plain HTTP or a client that gives up mid-handshake: that connection is closed, quietly
            // (no warning or error on stderr), and the endpoint goes on serving TLS.
            using (var plain = new HttpClient())
            {
                await Assert.ThrowsAnyAsync<HttpRequestException>(() => plain.GetAsync(new Uri($"http://127.0.0.1:{exporter.MetricsUrl.Port}/metrics")));
            }

            using (var half = new System.Net.Sockets.TcpClient())
            {
                await half.ConnectAsync(System.Net.IPAddress.Loopback, exporter.MetricsUrl.Port);
                await half.GetStream().WriteAsync(new byte[] { 0x16, 0x03, 0x01, 0x00, 0x05, 0x01 }); // a truncated ClientHello
            }

            Assert.Equal(second, await ServedThumbprintAsync());
            Assert.DoesNotContain("fail:", exporter.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("warn:", exporter.Stderr, StringComparison.Ordinal);

            // The status command speaks HTTPS when the config has a certificate; a self-signed one
            // needs --insecure, and without it the refusal is an error, not a hang or a crash.
            string[] status = ["prometheus", "status", "--config", Path.Combine(exporter.Home, "exporter.yaml"),
                "--host", "127.0.0.1", "--port", exporter.MetricsUrl.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)];
            RunResult insecure = await ProcessRunner.RunAsync(NativeBinary.Path, [.. status, "--insecure"], ExporterProcess.Env(exporter.Home));
            Assert.True(insecure.ExitCode == 0, insecure.All);
            Assert.Contains($"Metrics endpoint: https://127.0.0.1:{exporter.MetricsUrl.Port}/metrics", insecure.Stdout, StringComparison.Ordinal);
            RunResult untrusted = await ProcessRunner.RunAsync(NativeBinary.Path, status, ExporterProcess.Env(exporter.Home));
            Assert.Equal(1, untrusted.ExitCode);
            Assert.Contains($"not reachable at https://127.0.0.1:{exporter.MetricsUrl.Port}", untrusted.Stderr, StringComparison.Ordinal);

            // A rotation that leaves a broken key: the working certificate keeps serving, and the log says why, once.
            // (openssl writes the key before the certificate, so the rotation above may have logged one already.)
            int FailureLines() => exporter.Stderr.Split('\n').Count(l => l.Contains("TLS certificate reload failed", StringComparison.Ordinal));
            int before = FailureLines();
            await File.WriteAllTextAsync(key, "-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n");
            for (int i = 0; i < 40 && FailureLines() == before; i++)
            {
                await Task.Delay(100);
                Assert.Equal(second, await ServedThumbprintAsync());
            }

            Assert.Contains($"warning: TLS certificate reload failed, still serving the previous certificate: {cert} / {key}", exporter.Stderr, StringComparison.Ordinal);
            await Task.Delay(1100);
            Assert.Equal(second, await ServedThumbprintAsync());
            Assert.Equal(before + 1, FailureLines());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
