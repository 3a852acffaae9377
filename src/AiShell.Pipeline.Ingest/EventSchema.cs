using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using AiShell.Pipeline.Metrics;
using AiShell.Pipeline.Metrics.Flow;

namespace AiShell.Pipeline.Ingest;

/// <summary>
/// What an event means: validation (with a reason a client can act on) and folding into the integration guide's
/// families. Thread-safe: it only resolves series (each family locks its own lookup) and appends to
/// the caller's builder.
/// </summary>
public sealed class EventSchema
{
    public const int MaxLabelValueLength = 256;
    public const int MaxTraceIdLength = 64;
    private static readonly string[] Types = ["SELECT", "INSERT", "UPDATE", "DELETE", "OTHER"];
    private static readonly string[] Statuses = ["success", "error", "timeout", "cancelled"];
    private static readonly string[] Methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

    private readonly MetricFamily _queryTotal, _queryDuration, _querySummary, _slowQueries, _queryErrors;
    private readonly MetricFamily _connectionsActive, _poolSize, _connectionWait, _connectionErrors;
    private readonly MetricFamily _requests, _requestDuration, _requestSize, _activeUsers, _featureUsage;
    private readonly SeriesGroup _queryGroup; // counter, histogram and summary: one lookup per query event
    private readonly SeriesGroup _slowGroup, _errorGroup; // one counter each, tallied like the query group's
    private readonly Dictionary<string, (CustomEventMetric Spec, MetricFamily Family)> _custom = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (CustomEventMetric Spec, MetricFamily Family)>.AlternateLookup<ReadOnlySpan<char>> _customByName;
    private readonly double[] _thresholds;
    private readonly string[] _thresholdLabels;
    private readonly TimeProvider _time;

    private readonly QuerySources _querySources;
    private readonly MetricGroups _groups;

    public EventSchema(MetricRegistry registry, IReadOnlyList<double> slowThresholds, IReadOnlyList<CustomEventMetric> customMetrics,
        QuerySources querySources, TimeProvider? time = null, MetricGroups? groups = null)
    {
        _groups = groups ?? new MetricGroups();
        ArgumentNullException.ThrowIfNull(registry);
        _time = time ?? TimeProvider.System;
        ArgumentNullException.ThrowIfNull(customMetrics);
        ArgumentNullException.ThrowIfNull(querySources);
        _querySources = querySources;
        _thresholds = [.. slowThresholds];
        _thresholdLabels = [.. slowThresholds.Select(t => t.ToString("R", CultureInfo.InvariantCulture))];
        _queryTotal = registry.Register(MetricCatalog.QueryTotal);
        _queryDuration = registry.Register(MetricCatalog.QueryDurationSeconds);
        _querySummary = registry.Register(MetricCatalog.QueryDurationSummary);
        _slowQueries = registry.Register(MetricCatalog.SlowQueryTotal);
        _queryErrors = registry.Register(MetricCatalog.QueryErrorsTotal);
        _queryGroup = new SeriesGroup(["database", "type", "status"], _queryTotal, _queryDuration, _querySummary)
        {
            // The summary, which only events feed, tells the statements view whether events still arrive.
            OnResolve = values => querySources.MarkEventFed(values[0], _querySummary.WithLabels(values[0])),
        };
        _slowGroup = new SeriesGroup(["database", "threshold"], _slowQueries);
        _errorGroup = new SeriesGroup(["database", "type", "error"], _queryErrors);
        _connectionsActive = registry.Register(MetricCatalog.ConnectionsActive);
        _poolSize = registry.Register(MetricCatalog.ConnectionsPoolSize);
        _connectionWait = registry.Register(MetricCatalog.ConnectionWaitSeconds);
        _connectionErrors = registry.Register(MetricCatalog.ConnectionErrorsTotal);
        _requests = registry.Register(MetricCatalog.HttpRequestsTotal);
        _requestDuration = registry.Register(MetricCatalog.HttpRequestDurationSeconds);
        _requestSize = registry.Register(MetricCatalog.HttpRequestSizeBytes);
        _activeUsers = registry.Register(MetricCatalog.ActiveUsers);
        _featureUsage = registry.Register(MetricCatalog.FeatureUsageTotal);
        foreach (CustomEventMetric metric in customMetrics)
        {
            var descriptor = new MetricDescriptor(metric.ExposedName ?? metric.Name, metric.Help, metric.Type, metric.Labels, Buckets: metric.Buckets
                ?? (metric.Type == MetricType.Histogram ? registry.Options.ResolveBuckets(new MetricDescriptor(metric.Name, "", MetricType.Histogram, [], "query_duration")) : null));
            _custom[metric.Name] = (metric, registry.Register(descriptor));
        }

        _customByName = _custom.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>The declared type of the custom metric <paramref name="name"/>, or null (no string made for the lookup).</summary>
    public MetricType? CustomTypeOf(ReadOnlySpan<char> name) =>
        _customByName.TryGetValue(name, out (CustomEventMetric Spec, MetricFamily Family) custom) ? custom.Spec.Type : null;

    /// <summary>Samples one event of this kind can add at most (for admission before folding).</summary>
    public int MaxSamplesPerEvent => 5 + _thresholds.Length;

    /// <summary>Checks and normalises an event; returns why it is unusable, or null.</summary>
    public string? Validate(ref IngestEvent e) => e.Kind == EventKind.Query
        ? (_groups.IsOn(MetricGroup.Queries) ? ValidateQuery(ref e) : GroupOff(MetricGroup.Queries))
            ?? (_querySources.RefusesEvents(e.Database!) ? TakenFromStatements(e.Database!) : null)
        : ValidateOther(ref e);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static string GroupOff(MetricGroup group) =>
        $"{group.ToString().ToLowerInvariant()} metrics are off ({MetricGroups.KeyOf(group)}: false); the event is refused";

    private static string TakenFromStatements(string database) =>
        $"database '{database}' takes its query metrics from pg_stat_statements (query_source: statements); its query events are refused";

    /// <summary>
    /// Every kind but queries, out of line: this switch's cases need stack for their messages and
    /// label lookups, which a prologue zeroes on entry, and a query event should not pay for it.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private string? ValidateOther(ref IngestEvent e)
    {
        if (e.Kind is EventKind.Connection or EventKind.ConnectionError && !_groups.IsOn(MetricGroup.Connections))
        {
            return GroupOff(MetricGroup.Connections);
        }

        switch (e.Kind)
        {
            case EventKind.Connection:
                if (Required(e.Database, "database") is { } connDb)
                {
                    return connDb;
                }

                if (e.Active is null && e.PoolSize is null && e.Wait is null)
                {
                    return "a connection event needs active, pool_size or wait_seconds";
                }

                return (e.Relative ? Finite(e.Active, "active") ?? Finite(e.PoolSize, "pool_size") : NonNegative(e.Active, "active") ?? NonNegative(e.PoolSize, "pool_size"))
                    ?? NonNegative(e.Wait, "wait_seconds");

            case EventKind.ConnectionError:
                e.Error = NormaliseError(e.Error);
                e.Value = e.Value == 0 ? 1 : e.Value;
                return Required(e.Database, "database") ?? (e.Value < 0 || !double.IsFinite(e.Value) ? "value must be a non-negative count" : null);

            case EventKind.Request:
                e.Method = e.Method is { } m && Array.IndexOf(Methods, m.ToUpperInvariant()) >= 0 ? m.ToUpperInvariant() : "OTHER";
                if (Required(e.Endpoint, "endpoint") is { } endpointError)
                {
                    return endpointError;
                }

                if (e.HttpStatus is < 100 or > 599)
                {
                    return "status must be an HTTP status code (100-599)";
                }

                return !double.IsFinite(e.Duration) || e.Duration < 0 ? "duration_seconds must be a non-negative number" : NonNegative(e.Size, "size_bytes");

            case EventKind.Feature:
                e.Value = e.Value == 0 ? 1 : e.Value;
                return Required(e.Feature, "feature") ?? (e.Value < 0 || !double.IsFinite(e.Value) ? "value must be a non-negative count" : null);

            case EventKind.Users:
                return Required(e.Role, "role") ?? (e.Active is null ? "active is required" : e.Relative ? Finite(e.Active, "active") : NonNegative(e.Active, "active"));

            default:
                return ValidateCustom(ref e);
        }
    }

    /// <summary>
    /// The hot case, kept apart: every check is a compare on the accepted path, and each message is
    /// built in a method of its own, so this frame has no string-building locals to zero per event
    /// (validation was a sixth of the pipeline's CPU with them inline). A label value that already
    /// is canonical is not written back: each store of a reference is a GC write barrier.
    /// </summary>
    private static string? ValidateQuery(ref IngestEvent e)
    {
        if (!IsLabelValue(e.Database) && Required(e.Database, "database") is { } databaseError)
        {
            return databaseError;
        }

        // The canonical instances (what the parsers pool and literals are) pass with reference
        // compares inline; any other spelling takes the calls that compare characters.
        if (!IsCanonicalType(e.Type))
        {
            e.Type = NormaliseType(e.Type);
        }

        string? status = e.Status;
        if (!IsUsualStatus(status))
        {
            status = NormaliseStatus(status);
            if (status is null)
            {
                return UnknownStatus(e.Status);
            }

            if (!ReferenceEquals(status, e.Status))
            {
                e.Status = status;
            }
        }

        if (!double.IsFinite(e.Duration) || e.Duration < 0)
        {
            return "duration_seconds must be a non-negative number";
        }

        if (!ReferenceEquals(status, "success"))
        {
            string error = NormaliseError(e.Error);
            if (!ReferenceEquals(error, e.Error))
            {
                e.Error = error;
            }
        }

        return e.TraceId is null || IsTraceId(e.TraceId) ? null : BadTraceId();
    }

    /// <summary>The common case, inline: up to 256 UTF-16 units is up to 256 characters.</summary>
    private static bool IsLabelValue([NotNullWhen(true)] string? value) => value is { Length: > 0 and <= MaxLabelValueLength };

    /// <summary>
    /// Whether a label value is at most <see cref="MaxLabelValueLength"/> characters, counted as
    /// Unicode characters (runes): an emoji is one, though it takes two UTF-16 units.
    /// </summary>
    internal static bool FitsLabelLimit(string value)
    {
        if (value.Length <= MaxLabelValueLength)
        {
            return true;
        }

        if (value.Length > 2 * MaxLabelValueLength)
        {
            return false; // a rune is at most two units
        }

        int runes = 0;
        foreach (Rune _ in value.EnumerateRunes())
        {
            if (++runes > MaxLabelValueLength)
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsTraceId(string trace)
    {
        if (trace.Length is 0 or > MaxTraceIdLength)
        {
            return false;
        }

        foreach (char c in trace)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':'))
            {
                return false;
            }
        }

        return true;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static string UnknownStatus(string? status) => $"status '{status}' is not one of {string.Join(", ", Statuses)}";

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static string BadTraceId() => $"trace_id must be 1-{MaxTraceIdLength} characters of [A-Za-z0-9-_.:]";

    /// <summary>Appends the event's samples. Call only with an event <see cref="Validate"/> accepted.</summary>
    public void Fold(in IngestEvent e, SampleBatchBuilder batch)
    {
        if (e.Kind == EventKind.Query)
        {
            FoldQuery(e, batch);
        }
        else
        {
            FoldOther(e, batch);
        }
    }

    /// <summary>Every kind but queries, out of line for the reason <see cref="ValidateOther"/> is.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void FoldOther(in IngestEvent e, SampleBatchBuilder batch)
    {
        switch (e.Kind)
        {
            case EventKind.Connection:
                if (e.Active is { } active)
                {
                    SetOrChange(batch, _connectionsActive.WithLabels(e.Database!, "pool"), active, e.Relative);
                }

                if (e.PoolSize is { } pool)
                {
                    SetOrChange(batch, _poolSize.WithLabels(e.Database!, "pool"), pool, e.Relative);
                }

                if (e.Wait is { } wait)
                {
                    Observe(batch, _connectionWait.WithLabels(e.Database!), wait, e.Count);
                }

                break;
            case EventKind.ConnectionError:
                batch.Increment(_connectionErrors.WithLabels(e.Database!, e.Error!), e.Value);
                break;
            case EventKind.Request:
                batch.Increment(_requests.WithLabels(e.Method!, e.Endpoint!, StatusLabel(e.HttpStatus)), Math.Max(1, e.Count));
                Observe(batch, _requestDuration.WithLabels(e.Method!, e.Endpoint!), e.Duration, e.Count);
                if (e.Size is { } size)
                {
                    Observe(batch, _requestSize.WithLabels(e.Method!, e.Endpoint!), size, e.Count);
                }

                break;
            case EventKind.Feature:
                batch.Increment(_featureUsage.WithLabels(e.Feature!), e.Value);
                break;
            case EventKind.Users:
                SetOrChange(batch, _activeUsers.WithLabels(e.Role!), e.Active!.Value, e.Relative);
                break;
            default:
                FoldCustom(e, batch);
                break;
        }
    }

    /// <summary>
    /// The hot case in a method of its own. The label values go to the lookup as a span over an
    /// inline array of ours: a <c>params</c> span of three strings compiled (under Native AOT) to a
    /// call of a shared generic helper per event.
    /// </summary>
    private void FoldQuery(in IngestEvent e, SampleBatchBuilder batch)
    {
        QueryLabels labels = default;
        ref string values = ref Unsafe.As<QueryLabels, string>(ref labels); // a local's address: plain stores, no write barrier
        values = e.Database!;
        Unsafe.Add(ref values, 1) = e.Type!;
        Unsafe.Add(ref values, 2) = e.Status!;
        ReadOnlySpan<Series> query = _queryGroup.WithLabels(MemoryMarshal.CreateReadOnlySpan(ref values, QueryLabels.Length));
        long count = e.Count; // > 1: a sampled statsd timing
        if (count > 1)
        {
            FoldSampledQuery(e, query, batch);
            return;
        }

        batch.RecordEvent(query, e.Duration); // the counter counts it, the histogram and the summary observe the duration
        if (e.TraceId is { } traceId)
        {
            query[1].SetExemplar(e.Duration, Exemplar.Create("trace_id", traceId, e.Duration, _time.GetUtcNow()));
        }

        // Slow and failed queries count through groups too, tallied like the query itself: their
        // label values are the parsers' pooled instances and the thresholds' own strings, so the
        // lookup is the recent-tuple check (a family's lookup hashed them per event), and a storm
        // of failures adds a sample per tuple and hand-over instead of one per event.
        for (int i = 0; i < _thresholds.Length; i++)
        {
            if (e.Duration > _thresholds[i])
            {
                Unsafe.Add(ref values, 1) = _thresholdLabels[i];
                batch.RecordEvent(_slowGroup.WithLabels(MemoryMarshal.CreateReadOnlySpan(ref values, 2)), 0);
            }
        }

        if (e.Status != "success")
        {
            Unsafe.Add(ref values, 1) = e.Type!;
            Unsafe.Add(ref values, 2) = e.Error!;
            batch.RecordEvent(_errorGroup.WithLabels(MemoryMarshal.CreateReadOnlySpan(ref values, QueryLabels.Length)), 0);
        }
    }

    /// <summary>A query event that stands for <see cref="IngestEvent.Count"/> queries: every family moves by that many.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void FoldSampledQuery(in IngestEvent e, ReadOnlySpan<Series> query, SampleBatchBuilder batch)
    {
        batch.RecordEvent(query, e.Duration, e.Count);
        if (e.TraceId is { } traceId)
        {
            query[1].SetExemplar(e.Duration, Exemplar.Create("trace_id", traceId, e.Duration, _time.GetUtcNow()));
        }

        for (int i = 0; i < _thresholds.Length; i++)
        {
            if (e.Duration > _thresholds[i])
            {
                batch.RecordEvent(_slowGroup.WithLabels(e.Database!, _thresholdLabels[i]), 0, e.Count);
            }
        }

        if (e.Status != "success")
        {
            batch.RecordEvent(_errorGroup.WithLabels(e.Database!, e.Type!, e.Error!), 0, e.Count);
        }
    }

    private static void SetOrChange(SampleBatchBuilder batch, Series gauge, double value, bool relative)
    {
        if (relative)
        {
            batch.Increment(gauge, value);
        }
        else
        {
            batch.Set(gauge, value);
        }
    }

    private static void Observe(SampleBatchBuilder batch, Series series, double value, long count)
    {
        if (count > 1)
        {
            batch.ObserveRepeated(series, value, count);
        }
        else
        {
            batch.Observe(series, value);
        }
    }

    private string? ValidateCustom(ref IngestEvent e)
    {
        if (e.Name is null || !_custom.TryGetValue(e.Name, out var custom))
        {
            return $"custom metric '{e.Name}' is not declared in prometheus.custom_metrics";
        }

        List<KeyValuePair<string, string>> labels = e.Labels ?? [];
        foreach ((string name, string value) in labels)
        {
            if (Array.IndexOf(custom.Spec.Labels, name) < 0)
            {
                return $"custom metric '{e.Name}' has no label '{name}' (declared: {string.Join(", ", custom.Spec.Labels)})";
            }

            if (!FitsLabelLimit(value))
            {
                return $"label '{name}' is longer than {MaxLabelValueLength} characters";
            }
        }

        foreach (string declared in custom.Spec.Labels)
        {
            if (!labels.Exists(kv => kv.Key == declared))
            {
                return $"custom metric '{e.Name}' needs label '{declared}'";
            }
        }

        if (!double.IsFinite(e.Value) || (custom.Spec.Type == MetricType.Counter && e.Value < 0))
        {
            return custom.Spec.Type == MetricType.Counter ? "a counter's value must be a non-negative number" : "value must be a finite number";
        }

        return null;
    }

    private void FoldCustom(in IngestEvent e, SampleBatchBuilder batch)
    {
        (CustomEventMetric spec, MetricFamily family) = _custom[e.Name!];
        string[] values = new string[spec.Labels.Length];
        foreach ((string name, string value) in e.Labels ?? [])
        {
            values[Array.IndexOf(spec.Labels, name)] = value;
        }

        Series series = family.WithLabels(values);
        switch (spec.Type)
        {
            case MetricType.Counter:
                batch.Increment(series, e.Value);
                break;
            case MetricType.Gauge:
                SetOrChange(batch, series, e.Value, e.Relative);
                break;
            default:
                Observe(batch, series, e.Value, e.Count);
                break;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static string? Required(string? value, string field) =>
        string.IsNullOrEmpty(value) ? $"{field} is required"
            : !FitsLabelLimit(value) ? $"{field} is longer than {MaxLabelValueLength} characters"
            : null;

    private static string? Finite(double? value, string field) =>
        value is { } v && !double.IsFinite(v) ? $"{field} must be a finite number" : null;

    private static string? NonNegative(double? value, string field) =>
        value is { } v && (!double.IsFinite(v) || v < 0) ? $"{field} must be a non-negative number" : null;

    /// <summary>
    /// The canonical (interned) label value: an exact match costs a few compares, and only other
    /// spellings pay for case conversion. Canonical instances also make the series lookup's string
    /// comparisons reference checks.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static string NormaliseType(string? type) => CanonicalType(type) ?? CanonicalType(type?.ToUpperInvariant()) ?? "OTHER";

    /// <summary>The label values validation maps to: parsers pool these very instances (see <see cref="StringPool"/>).</summary>
    internal static readonly string[] CanonicalValues = [.. Types, .. Statuses];

    /// <summary>One of the canonical type instances: reference compares, no characters read.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsCanonicalType(string? type) =>
        ReferenceEquals(type, "SELECT") || ReferenceEquals(type, "INSERT") || ReferenceEquals(type, "UPDATE")
        || ReferenceEquals(type, "DELETE") || ReferenceEquals(type, "OTHER");

    private static string? CanonicalType(string? type) => type switch
    {
        "SELECT" => "SELECT",
        "INSERT" => "INSERT",
        "UPDATE" => "UPDATE",
        "DELETE" => "DELETE",
        "OTHER" => "OTHER",
        _ => null,
    };

    /// <summary>Missing means success; otherwise one of <see cref="Statuses"/> in any case, or null.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static string? NormaliseStatus(string? status) =>
        string.IsNullOrEmpty(status) ? "success" : CanonicalStatus(status) ?? CanonicalStatus(status.ToLowerInvariant());

    /// <summary>The canonical success or error instance (the statuses nearly every event has): reference compares only.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsUsualStatus(string? status) => ReferenceEquals(status, "success") || ReferenceEquals(status, "error");

    private static string? CanonicalStatus(string status) => status switch
    {
        "success" => "success",
        "error" => "error",
        "timeout" => "timeout",
        "cancelled" => "cancelled",
        _ => null,
    };

    /// <summary>A SQLSTATE (five of [0-9A-Z]) is kept; anything else is 'other', so the label stays bounded.</summary>
    internal static string NormaliseError(string? error) =>
        error is { Length: 5 } && IsSqlState(error) ? error
            : string.IsNullOrEmpty(error) ? "unknown" : "other";

    private static bool IsSqlState(string code)
    {
        foreach (char c in code)
        {
            if (!(char.IsAsciiDigit(c) || char.IsAsciiLetterUpper(c)))
            {
                return false;
            }
        }

        return true;
    }

    private static string StatusLabel(int status) => status.ToString(CultureInfo.InvariantCulture);

    /// <summary>A query event's database, type and status, side by side on the stack.</summary>
    [InlineArray(Length)]
    private struct QueryLabels
    {
        public const int Length = 3;
        private string _value;
    }
}
