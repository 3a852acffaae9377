using System.Net.Sockets;
using Npgsql;

namespace AiShell.Pipeline.Collectors.Postgres;

/// <summary>Maps a failed connect to the bounded <c>error</c> label of aishell_connection_errors_total.</summary>
public static class ConnectionErrors
{
    /// <summary>
    /// The SQLSTATE for errors the server reported (28P01 bad password, 3D000 no such database,
    /// 53300 too many connections, 57P03 starting up...); otherwise connection_refused, timeout,
    /// dns or other.
    /// </summary>
    public static string Classify(Exception exception)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case PostgresException pg:
                    return pg.SqlState;
                case SocketException { SocketErrorCode: SocketError.ConnectionRefused }:
                    return "connection_refused";
                case SocketException { SocketErrorCode: SocketError.TimedOut }:
                case TimeoutException:
                case OperationCanceledException:
                    return "timeout";
                case SocketException { SocketErrorCode: SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData }:
                    return "dns";
            }
        }

        return "other";
    }
}
