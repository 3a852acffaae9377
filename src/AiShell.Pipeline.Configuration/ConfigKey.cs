using YamlDotNet.RepresentationModel;

namespace AiShell.Pipeline.Configuration;

public enum ConfigValueKind
{
    Bool,
    Integer,
    Duration,
    Text,
    NameList,
    NumberList,
    /// <summary>Structured (custom_metrics): edited in the file, shown by <c>config get</c>.</summary>
    Structured,
}

/// <summary>
/// One settable key: its path, kind, meaning, how to apply a YAML value to a config (returning the
/// reason when the value is bad) and how to show the effective value.
/// </summary>
public sealed class ConfigKey
{
    internal ConfigKey(string path, ConfigValueKind kind, string description,
        Func<ExporterConfig, YamlNode, string?> apply, Func<ExporterConfig, string> show)
    {
        Path = path;
        Kind = kind;
        Description = description;
        Apply = apply;
        Show = show;
    }

    public string Path { get; }
    public ConfigValueKind Kind { get; }
    public string Description { get; }
    internal Func<ExporterConfig, YamlNode, string?> Apply { get; }
    public Func<ExporterConfig, string> Show { get; }

    /// <summary>Applies a scalar given as text (a CLI flag); returns the reason it is bad, or null.</summary>
    public string? ApplyText(ExporterConfig config, string value) => Apply(config, new YamlScalarNode(value));
}
