using System.Security.Cryptography.X509Certificates;

namespace AiShell.Pipeline.Server.Security;

/// <summary>
/// The server certificate from PEM files, picked up again when either file changes (checked at most
/// once a second, on a handshake), so certificates can be rotated without a restart. A rotation that
/// leaves unreadable or mismatched files keeps serving the previous certificate and says so in the log,
/// once per change of the files.
/// </summary>
public sealed class TlsCertificates
{
    private readonly string _certFile;
    private readonly string _keyFile;
    private readonly Action<string>? _log;
    private readonly Lock _gate = new();
    private X509Certificate2 _current;
    private (DateTime Cert, DateTime Key) _stamps;
    private long _nextCheck;

    public TlsCertificates(string certFile, string keyFile, Action<string>? log = null)
    {
        _certFile = certFile;
        _keyFile = keyFile;
        _log = log;
        _stamps = Stamps();
        _current = Load();
    }

    public X509Certificate2 Current
    {
        get
        {
            long now = Environment.TickCount64;
            if (now < Volatile.Read(ref _nextCheck))
            {
                return _current;
            }

            lock (_gate)
            {
                _nextCheck = now + 1000;
                (DateTime, DateTime) stamps = Stamps();
                if (stamps != _stamps)
                {
                    try
                    {
                        _current = Load();
                        _log?.Invoke($"TLS certificate reloaded from {_certFile} (expires {_current.NotAfter.ToUniversalTime():yyyy-MM-dd})");
                    }
                    catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
                    {
                        // Half-written or mismatched files: keep the certificate that works. The stamps
                        // are taken anyway so the failure is logged once, and a later write retries.
                        _log?.Invoke($"warning: TLS certificate reload failed, still serving the previous certificate: " +
                            $"{_certFile} / {_keyFile}: " + ex switch
                            {
                                FileNotFoundException or DirectoryNotFoundException => "no such file",
                                UnauthorizedAccessException => "permission denied",
                                IOException io => io.Message,
                                _ => "not a PEM certificate with its matching key",
                            });
                    }

                    _stamps = stamps;
                }

                return _current;
            }
        }
    }

    private (DateTime, DateTime) Stamps() => (File.GetLastWriteTimeUtc(_certFile), File.GetLastWriteTimeUtc(_keyFile));

    private X509Certificate2 Load()
    {
        using X509Certificate2 pem = X509Certificate2.CreateFromPemFile(_certFile, _keyFile);
        // Re-import so the private key is usable by SslStream on every platform.
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }
}
