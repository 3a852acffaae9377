namespace AiShell.Pipeline.Ingest;

public enum EventKind : byte
{
    Query,
    Connection,
    ConnectionError,
    Request,
    Feature,
    Users,
    Custom,
}

/// <summary>
/// One event as parsed from NDJSON or DogStatsD, or built by the in-process API. Which fields mean
/// something depends on <see cref="Kind"/>; <see cref="EventSchema.Validate"/> checks them.
/// </summary>
public struct IngestEvent
{
    public EventKind Kind;

    // query, connection, connection_error
    public string? Database;
    public string? Type;
    public string? Status;
    public string? Error;
    public string? TraceId;
    public double Duration; // seconds: query and request

    // connection
    public double? Active;
    public double? PoolSize;
    public double? Wait;

    // request
    public string? Method;
    public string? Endpoint;
    public int HttpStatus;
    public double? Size;

    // feature, users
    public string? Feature;
    public string? Role;

    // custom
    public string? Name;
    public List<KeyValuePair<string, string>>? Labels;
    public double Value;

    public static IngestEvent Query(string database, string type, string status, double seconds, string? error = null, string? traceId = null) =>
        new() { Kind = EventKind.Query, Database = database, Type = type, Status = status, Duration = seconds, Error = error, TraceId = traceId };
}
