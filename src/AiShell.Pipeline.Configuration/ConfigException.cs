namespace AiShell.Pipeline.Configuration;

/// <summary>One problem in a config: where (file, line, key) and why.</summary>
public sealed record ConfigError(string Source, string Key, string Reason, long Line = 0)
{
    public override string ToString() =>
        Line > 0 ? $"{Source}:{Line}: {Key}: {Reason}" : $"{Source}: {Key}: {Reason}";
}

/// <summary>Thrown when a config cannot be used; lists every problem found, not just the first.</summary>
public sealed class ConfigException : Exception
{
    public ConfigException(IReadOnlyList<ConfigError> errors)
        : base(Format(errors)) => Errors = errors;

    public ConfigException(string message)
        : base(message) => Errors = [];

    public ConfigException(string message, Exception inner)
        : base(message, inner) => Errors = [];

    public ConfigException()
        : this("Invalid configuration.")
    {
    }

    public IReadOnlyList<ConfigError> Errors { get; }

    private static string Format(IReadOnlyList<ConfigError> errors) =>
        errors.Count == 1 ? errors[0].ToString()
            : $"{errors.Count} configuration errors:\n  " + string.Join("\n  ", errors);
}
