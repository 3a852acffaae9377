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

    /// <summary>
    /// How many observations the event stands for; 0 and 1 both mean one. A sampled statsd timing
    /// (<c>|ms|@0.25</c>) stands for round(1 / rate) of them: count and histogram move by that many.
    /// </summary>
    public long Count;

    /// <summary>A gauge value that changes the gauge by that amount instead of setting it (statsd <c>+4|g</c>, <c>-10|g</c>).</summary>
    public bool Relative;

    public static IngestEvent Query(string database, string type, string status, double seconds, string? error = null, string? traceId = null) =>
        new() { Kind = EventKind.Query, Database = database, Type = type, Status = status, Duration = seconds, Error = error, TraceId = traceId };
}
