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
/// One settable key: its path, kind, meaning, how to apply a YAML value to a config (reporting each
/// problem at the node it concerns) and how to show the effective value.
/// </summary>
public sealed class ConfigKey
{
    /// <summary>A key whose value is one thing: a bad value is one problem, at the value's line.</summary>
    internal ConfigKey(string path, ConfigValueKind kind, string description,
        Func<ExporterConfig, YamlNode, string?> apply, Func<ExporterConfig, string> show)
        : this(path, kind, description, (config, node, problems) =>
        {
            if (apply(config, node) is { } reason)
            {
                problems.Add(node, reason);
            }
        }, show)
    {
    }

    /// <summary>A structured key (a list of entries, a mapping): every problem in it, each at its field.</summary>
    internal ConfigKey(string path, ConfigValueKind kind, string description,
        Action<ExporterConfig, YamlNode, ValueProblems> apply, Func<ExporterConfig, string> show)
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
    internal Action<ExporterConfig, YamlNode, ValueProblems> Apply { get; }
    public Func<ExporterConfig, string> Show { get; }

    /// <summary>Applies a scalar given as text (a CLI flag); returns the reason it is bad, or null.</summary>
    public string? ApplyText(ExporterConfig config, string value) => ApplyNode(config, new YamlScalarNode(value));

    /// <summary>Applies a value; returns the first problem's reason, or null.</summary>
    internal string? ApplyNode(ExporterConfig config, YamlNode value)
    {
        var problems = new ValueProblems();
        Apply(config, value, problems);
        return problems.Count == 0 ? null : problems[0].Field.Length == 0 ? problems[0].Reason : $"{problems[0].Field}: {problems[0].Reason}";
    }
}

/// <summary>
/// The problems in one key's value. A field names where inside the value (<c>[1].statement_timeout</c>),
/// so the message says <c>prometheus.databases[1].statement_timeout</c> at that field's line rather than
/// the line the list starts on.
/// </summary>
internal sealed class ValueProblems : List<(string Field, string Reason, long Line)>
{
    public void Add(YamlNode at, string reason, string field = "") => Add((field, reason, at.Start.Line));
}
