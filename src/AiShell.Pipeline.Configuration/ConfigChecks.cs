using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AiShell.Pipeline.Configuration;

/// <summary>
/// Checks what a config points at outside itself: certificate and key files, password and token
/// files, password variables and connection strings. Each problem is reported at the line of the
/// field that names it, in plain words ("no such file", "permission denied for user nobody"), never
/// as a runtime resource key, and never with a secret in it.
/// </summary>
public static class ConfigChecks
{
    /// <summary>
    /// Every problem found. <paramref name="connectionString"/> returns why a connection string is not
    /// usable, or null (it lives with the PostgreSQL driver, which this library does not reference).
    /// </summary>
    public static List<ConfigError> Run(ExporterConfig config, Func<string, string?>? connectionString = null)
    {
        var errors = new List<ConfigError>();
        CheckTls(config, errors);
        CheckTokenFile(config, errors);
        for (int i = 0; i < config.Databases.Count; i++)
        {
            DatabaseConfig database = config.Databases[i];
            string at = $"prometheus.databases[{i}]";
            if (connectionString?.Invoke(database.ConnectionString) is { } syntax)
            {
                errors.Add(config.ErrorAt(at + ".connection_string", syntax));
            }

            if (database.PasswordFile is { } file)
            {
                string? problem = ReadProblem(file, out string password);
                if ((problem ?? (password.TrimEnd('\r', '\n').Length == 0 ? "the file is empty" : null)) is { } reason)
                {
                    errors.Add(config.ErrorAt(at + ".password_file", $"{file}: {reason}"));
                }
            }

            if (database.PasswordEnv is { } variable && Environment.GetEnvironmentVariable(variable) is null)
            {
                errors.Add(config.ErrorAt(at + ".password_env", $"the environment variable {variable} is not set"));
            }
        }

        return errors;
    }

    /// <summary>Reads a file the config names; returns why it cannot be read, in plain words, or null.</summary>
    public static string? ReadProblem(string path, out string text)
    {
        text = "";
        if (Directory.Exists(path))
        {
            return "is a directory, not a file";
        }

        try
        {
            text = File.ReadAllText(path);
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Plain(ex);
        }
    }

    /// <summary>An I/O failure in plain words (the native binary carries no runtime message text for these).</summary>
    public static string Plain(Exception ex) => ex switch
    {
        FileNotFoundException => "no such file",
        DirectoryNotFoundException => "no such file (a directory on the path does not exist)",
        UnauthorizedAccessException => $"permission denied (the exporter runs as user {Environment.UserName})",
        PathTooLongException => "the path is too long",
        IOException io => "cannot be read: " + io.Message,
        _ => ex.GetType().Name,
    };

    /// <summary>The first reason a certificate and key pair cannot serve TLS, naming the field at fault; null when it can.</summary>
    public static (string Field, string Reason)? TlsProblem(string certFile, string keyFile) =>
        TlsProblems(certFile, keyFile) is [var first, ..] ? first : null;

    /// <summary>The PEM text of <paramref name="path"/> when it is readable and holds <paramref name="marker"/>; else null, and why added to <paramref name="problems"/>.</summary>
    private static string? ReadPem(List<(string, string)> problems, string field, string path, string marker, string what)
    {
        if (ReadProblem(path, out string text) is { } problem)
        {
            problems.Add((field, $"{path}: {problem}"));
            return null;
        }

        if (!text.Contains(marker, StringComparison.Ordinal))
        {
            problems.Add((field, $"{path}: holds no {what}"));
            return null;
        }

        return text;
    }

    /// <summary>Every reason a certificate and key pair cannot serve TLS, each naming the field at fault.</summary>
    public static List<(string Field, string Reason)> TlsProblems(string certFile, string keyFile)
    {
        var problems = new List<(string, string)>();
        string? cert = ReadPem(problems, "cert_file", certFile, "-----BEGIN CERTIFICATE-----", "PEM certificate (a '-----BEGIN CERTIFICATE-----' block)");
        string? key = ReadPem(problems, "key_file", keyFile, "PRIVATE KEY-----", "PEM private key (a '-----BEGIN PRIVATE KEY-----' block)");

        if (cert is not null)
        {
            try
            {
                using X509Certificate2 parsed = X509Certificate2.CreateFromPem(cert);
            }
            catch (CryptographicException)
            {
                problems.Add(("cert_file", $"{certFile}: the certificate cannot be parsed (damaged or not X.509)"));
                cert = null;
            }
        }

        if (cert is not null && key is not null)
        {
            try
            {
                using X509Certificate2 pair = X509Certificate2.CreateFromPem(cert, key);
                if (!pair.HasPrivateKey)
                {
                    problems.Add(("key_file", $"{keyFile}: the key does not belong to the certificate in {certFile}"));
                }
            }
            catch (CryptographicException)
            {
                problems.Add(("key_file", $"{keyFile}: the key cannot be used with the certificate in {certFile} (a different key, or encrypted)"));
            }
        }

        return problems;
    }

    private static void CheckTls(ExporterConfig config, List<ConfigError> errors)
    {
        if (config.Web.TlsCertFile is { } cert && config.Web.TlsKeyFile is { } key)
        {
            foreach ((string field, string reason) in TlsProblems(cert, key))
            {
                errors.Add(config.ErrorAt("prometheus.web.tls_server_config." + field, reason));
            }
        }
    }

    private static void CheckTokenFile(ExporterConfig config, List<ConfigError> errors)
    {
        if (config.Web.BearerTokenFile is not { } file)
        {
            return;
        }

        const string Key = "prometheus.web.bearer_token_file";
        if (ReadProblem(file, out string text) is { } problem)
        {
            errors.Add(config.ErrorAt(Key, $"{file}: {problem}"));
            return;
        }

        string[] lines = text.Split('\n');
        int tokens = 0;
        for (int i = 0; i < lines.Length; i++)
        {
            string token = lines[i].Trim();
            if (token.Length == 0)
            {
                continue;
            }

            if (token.Length < WebConfig.MinTokenLength)
            {
                errors.Add(config.ErrorAt(Key, $"{file}: line {i + 1} holds a token shorter than {WebConfig.MinTokenLength} characters"));
            }

            tokens++;
        }

        if (tokens == 0)
        {
            errors.Add(config.ErrorAt(Key, $"{file}: the file holds no token (one per line, {WebConfig.MinTokenLength}+ characters)"));
        }
    }
}
