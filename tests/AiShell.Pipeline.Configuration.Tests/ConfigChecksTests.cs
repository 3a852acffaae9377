using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AiShell.Pipeline.Configuration.Tests;

/// <summary>
/// What a config names outside itself: every problem at the line of the field at fault, in plain
/// words, all in one report together with the file's own problems.
/// </summary>
public sealed class ConfigChecksTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("aishell-checks-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string text)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static ConfigException Refused(string yaml) =>
        Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml, "c.yaml", check: c => ConfigChecks.Run(c)));

    private static (string Cert, string Key) MakePair(string subject)
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest($"CN={subject}", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using X509Certificate2 cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(1));
        return (cert.ExportCertificatePem(), rsa.ExportPkcs8PrivateKeyPem());
    }

    [Fact]
    public void DatabaseEntryProblems_PointAtTheFieldLine_AndAreAllReported()
    {
        const string yaml = """
            prometheus:
              databases:
                - name: a
                  connection_string: "Host=x"
                  statement_timeout: 5x
                - name: b
                  connection_string: "Host=y"
                  top_tables: -1
                  top_tabels: 3
            """;

        ConfigException ex = Refused(yaml);

        Assert.Equal(3, ex.Errors.Count);
        Assert.Contains(ex.Errors, e => e is { Key: "prometheus.databases[0].statement_timeout", Line: 5 });
        Assert.Contains(ex.Errors, e => e is { Key: "prometheus.databases[1].top_tables", Line: 8 });
        Assert.Contains(ex.Errors, e => e is { Key: "prometheus.databases[1].top_tabels", Line: 9 } && e.Reason.StartsWith("unknown field", StringComparison.Ordinal));
        Assert.Contains("c.yaml:5: prometheus.databases[0].statement_timeout: '5x' is not a duration", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FileProblems_AreReportedWithTheFileOwnProblems_InLineOrder()
    {
        string directory = Directory.CreateDirectory(Path.Combine(_dir, "pw")).FullName;
        string empty = Write("empty", "\n");
        string shortTokens = Write("tokens", "0123456789abcdef0123\nshort\n");
        string yaml = $"""
            prometheus:
              port: 70000
              web:
                tls_server_config:
                  cert_file: {_dir}/missing.pem
                  key_file: {_dir}/missing.key
                bearer_token_file: {shortTokens}
              databases:
                - name: a
                  connection_string: "Host=x"
                  password_file: {directory}
                - name: b
                  connection_string: "Host=x"
                  password_file: {empty}
                - name: c
                  connection_string: "Host=x"
                  password_env: AISHELL_TEST_SURELY_UNSET_VARIABLE
            """;

        ConfigException ex = Refused(yaml);

        Assert.Equal(
        [
            "prometheus.port", "prometheus.web.tls_server_config.cert_file", "prometheus.web.tls_server_config.key_file", "prometheus.web.bearer_token_file",
            "prometheus.databases[0].password_file", "prometheus.databases[1].password_file", "prometheus.databases[2].password_env",
        ], ex.Errors.Select(e => e.Key));
        Assert.Equal([2L, 5, 6, 7, 11, 14, 17], ex.Errors.Select(e => e.Line));
        Assert.Equal($"{_dir}/missing.pem: no such file", ex.Errors[1].Reason);
        Assert.Equal($"{shortTokens}: line 2 holds a token shorter than 16 characters", ex.Errors[3].Reason);
        Assert.Equal($"{directory}: is a directory, not a file", ex.Errors[4].Reason);
        Assert.Equal($"{empty}: the file is empty", ex.Errors[5].Reason);
        Assert.Equal("the environment variable AISHELL_TEST_SURELY_UNSET_VARIABLE is not set", ex.Errors[6].Reason);
        Assert.DoesNotContain("IO_", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Certificates_NotPem_MismatchedKey_AndAGoodPair()
    {
        (string cert, string key) = MakePair("a");
        (_, string otherKey) = MakePair("b");
        string certFile = Write("a.pem", cert);
        string keyFile = Write("a.key", key);

        Assert.Null(ConfigChecks.TlsProblem(certFile, keyFile));
        Assert.Equal(("cert_file", $"{keyFile}: holds no PEM certificate (a '-----BEGIN CERTIFICATE-----' block)"),
            ConfigChecks.TlsProblem(keyFile, keyFile));
        Assert.Equal("key_file", ConfigChecks.TlsProblem(certFile, certFile)?.Field);
        (string field, string reason) = ConfigChecks.TlsProblem(certFile, Write("b.key", otherKey))!.Value;
        Assert.Equal("key_file", field);
        Assert.Contains("cannot be used with the certificate", reason, StringComparison.Ordinal);
        string damaged = Write("damaged.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
        Assert.Equal("cert_file", ConfigChecks.TlsProblem(damaged, keyFile)?.Field);
    }

    [Fact]
    public void TokenFile_WithNoToken_IsRefused()
    {
        string file = Write("none", "\n\n");
        ConfigException ex = Refused($"prometheus:\n  web:\n    bearer_token_file: {file}\n");
        ConfigError error = Assert.Single(ex.Errors);
        Assert.Equal(3, error.Line);
        Assert.Contains("holds no token", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void AGoodConfig_PassesTheChecks()
    {
        (string cert, string key) = MakePair("good");
        string yaml = $"""
            prometheus:
              web:
                tls_server_config:
                  cert_file: {Write("c.pem", cert)}
                  key_file: {Write("c.key", key)}
                bearer_token_file: {Write("t", "0123456789abcdef\n")}
              databases:
                - name: a
                  connection_string: "Host=x"
                  password_file: {Write("pw", "secret\n")}
            """;

        ExporterConfig config = ConfigLoader.Parse(yaml, "c.yaml", check: c => ConfigChecks.Run(c));
        Assert.Single(config.Databases);
    }

    [Fact]
    public void ConnectionStringProblems_AreReportedAtTheirField()
    {
        const string yaml = """
            prometheus:
              databases:
                - name: a
                  connection_string: "Host=x;Port"
            """;
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml, "c.yaml",
            check: c => ConfigChecks.Run(c, cs => cs.EndsWith("Port", StringComparison.Ordinal) ? "is broken" : null)));
        Assert.Equal("c.yaml:4: prometheus.databases[0].connection_string: is broken", Assert.Single(ex.Errors).ToString());
    }

    [Fact]
    public void BothTlsFilesMissing_AreBothReported()
    {
        ConfigException ex = Refused($"prometheus:\n  web:\n    tls_server_config:\n      cert_file: {_dir}/no.pem\n      key_file: {_dir}/no.key\n");
        Assert.Equal(["prometheus.web.tls_server_config.cert_file", "prometheus.web.tls_server_config.key_file"], ex.Errors.Select(e => e.Key));
        Assert.Equal([4L, 5], ex.Errors.Select(e => e.Line));
    }

    [Fact]
    public void ACustomMetricNamedTwice_OrLikeABuiltInMetric_IsRefused()
    {
        const string yaml = """
            prometheus:
              custom_metrics:
                - name: tx
                  type: counter
                  help: a
                - name: tx
                  type: gauge
                  help: b
                - name: query_total
                  type: counter
                  help: c
                - name: exporter_build_info
                  type: gauge
                  help: d
            """;
        ConfigException ex = Refused(yaml);
        Assert.Equal(3, ex.Errors.Count);
        Assert.Contains(ex.Errors, e => e is { Key: "prometheus.custom_metrics[1]", Line: 6 } && e.Reason == "'tx' is declared twice");
        Assert.Contains(ex.Errors, e => e.Key == "prometheus.custom_metrics[2]" && e.Reason.Contains("built-in metric (query_total)", StringComparison.Ordinal));
        Assert.Contains(ex.Errors, e => e.Key == "prometheus.custom_metrics[3]" && e.Reason.Contains("built-in metric (exporter_build_info)", StringComparison.Ordinal));
    }

    [Fact]
    public void ADirectoryNamedAsTheConfig_IsSaidToBeADirectory()
    {
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Load(_dir));
        Assert.Equal($"{_dir}: is a directory, not a config file", ex.Message);
    }

    [Fact]
    public void ACustomMetricsProblem_PointsAtItsField()
    {
        const string yaml = """
            prometheus:
              custom_metrics:
                - name: ok_one
                  type: gauge
                  help: h
                - name: x
                  help: h
                  type: summary
            """;
        ConfigError error = Assert.Single(Refused(yaml).Errors);
        Assert.Equal("prometheus.custom_metrics[1].type", error.Key);
        Assert.Equal(8, error.Line);
    }
}
