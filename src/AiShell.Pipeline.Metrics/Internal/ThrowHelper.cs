using System.Diagnostics.CodeAnalysis;

namespace AiShell.Pipeline.Metrics.Internal;

/// <summary>Throws out of line so that hot callers stay small enough to inline.</summary>
internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void LabelCount(string family, int expected, int actual) =>
        throw new ArgumentException($"Metric '{family}' takes {expected} label value(s), got {actual}.");

    [DoesNotReturn]
    public static void WrongType(string family, string operation) =>
        throw new InvalidOperationException($"Metric '{family}' does not support {operation}.");

    [DoesNotReturn]
    public static void Argument(string message) => throw new ArgumentException(message);
}
