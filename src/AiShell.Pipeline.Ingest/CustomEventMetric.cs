using AiShell.Pipeline.Metrics;

namespace AiShell.Pipeline.Ingest;

/// <summary>
/// A custom metric declared in config that events may feed (<c>kind: custom</c>): events name it by
/// <see cref="Name"/> (as declared); it is exposed as <see cref="ExposedName"/> (counters end in _total).
/// </summary>
public sealed record CustomEventMetric(string Name, MetricType Type, string Help, string[] Labels, double[]? Buckets, string? ExposedName = null);
