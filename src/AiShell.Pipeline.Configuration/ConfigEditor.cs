using System.Text;
using YamlDotNet.RepresentationModel;

namespace AiShell.Pipeline.Configuration;

/// <summary>
/// <c>aishell config set|get|list</c>. A set validates the value and then the whole resulting file
/// before writing it through a temporary file and a rename: a bad key or value leaves the file as it was.
/// Comments in an edited file are not kept (the YAML node model does not carry them).
/// </summary>
public static class ConfigEditor
{
    public static void Set(string file, string keyPath, string value)
    {
        ConfigKey key = ConfigKeys.Find(keyPath)
            ?? throw new ConfigException($"unknown key '{keyPath}'. Run 'aishell config list' for the keys.");
        if (key.Kind == ConfigValueKind.Structured)
        {
            throw new ConfigException($"{key.Path} is structured: edit it in {file}");
        }

        YamlNode node = ToNode(key, value);
        string? reason = key.ApplyNode(new ExporterConfig(), node);
        if (reason is not null)
        {
            throw new ConfigException([new ConfigError("config set", key.Path, reason)]);
        }

        YamlMappingNode root = File.Exists(file)
            ? ConfigLoader.ParseDocument(File.ReadAllText(file), file) ?? new YamlMappingNode()
            : new YamlMappingNode();

        YamlMappingNode parent = Navigate(root, key.Path);
        parent.Children[new YamlScalarNode(key.Path[(key.Path.LastIndexOf('.') + 1)..])] = node;

        string yaml = Serialize(root);
        ConfigLoader.Parse(yaml, file); // the whole file must still be valid
        WriteAtomically(file, yaml);
    }

    public static string Get(string? cliPath, string keyPath)
    {
        ConfigKey key = ConfigKeys.Find(keyPath)
            ?? throw new ConfigException($"unknown key '{keyPath}'. Run 'aishell config list' for the keys.");
        return key.Show(ConfigLoader.Load(cliPath));
    }

    /// <summary>Every key with its effective value, one <c>key = value</c> per line.</summary>
    public static string List(string? cliPath)
    {
        ExporterConfig config = ConfigLoader.Load(cliPath);
        var sb = new StringBuilder();
        sb.Append("# source: ").Append(config.Source).Append('\n');
        foreach (ConfigKey key in ConfigKeys.Fixed)
        {
            if (key.Kind != ConfigValueKind.Structured)
            {
                sb.Append(key.Path).Append(" = ").Append(key.Show(config)).Append('\n');
            }
        }

        foreach ((string name, string value) in config.ConstantLabels)
        {
            sb.Append(ConfigKeys.LabelsPrefix).Append(name).Append(" = ").Append(value).Append('\n');
        }

        foreach (string set in config.Buckets.Keys.Order(StringComparer.Ordinal))
        {
            sb.Append(ConfigKeys.BucketsPrefix).Append(set).Append(" = ")
                .Append(ConfigKeys.Find(ConfigKeys.BucketsPrefix + set)!.Show(config)).Append('\n');
        }

        sb.Append("prometheus.custom_metrics = ").Append(config.CustomMetrics.Count).Append(" declared\n");
        return sb.ToString();
    }

    private static YamlNode ToNode(ConfigKey key, string value)
    {
        if (key.Kind is not (ConfigValueKind.NameList or ConfigValueKind.NumberList))
        {
            return new YamlScalarNode(value);
        }

        string trimmed = value.Trim();
        if (trimmed.StartsWith('['))
        {
            YamlMappingNode? doc = ConfigLoader.ParseDocument("v: " + trimmed, "config set");
            if (doc?.Children[new YamlScalarNode("v")] is YamlSequenceNode parsed)
            {
                return parsed;
            }
        }

        var sequence = new YamlSequenceNode();
        foreach (string part in trimmed.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            sequence.Add(new YamlScalarNode(part));
        }

        return sequence;
    }

    private static YamlMappingNode Navigate(YamlMappingNode root, string canonicalPath)
    {
        // Edit where the file keeps the section: under integrations: when it uses that form.
        YamlMappingNode current = root;
        if (!root.Children.ContainsKey(new YamlScalarNode("prometheus"))
            && root.Children.TryGetValue(new YamlScalarNode("integrations"), out YamlNode? integrations)
            && integrations is YamlMappingNode integrationsMap)
        {
            current = integrationsMap;
        }

        string[] parts = canonicalPath.Split('.');
        for (int i = 0; i < parts.Length - 1; i++)
        {
            var k = new YamlScalarNode(parts[i]);
            if (!current.Children.TryGetValue(k, out YamlNode? child) || child is not YamlMappingNode map)
            {
                map = new YamlMappingNode();
                current.Children[k] = map;
            }

            current = map;
        }

        return current;
    }

    private static string Serialize(YamlMappingNode root)
    {
        var stream = new YamlStream(new YamlDocument(root));
        using var writer = new StringWriter();
        stream.Save(writer, assignAnchors: false);
        string text = writer.ToString();
        int end = text.LastIndexOf("...", StringComparison.Ordinal);
        return end >= 0 && text[end..].Trim() == "..." ? text[..end] : text;
    }

    private static void WriteAtomically(string file, string text)
    {
        string directory = Path.GetDirectoryName(Path.GetFullPath(file))!;
        Directory.CreateDirectory(directory);
        string temp = Path.Combine(directory, $".{Path.GetFileName(file)}.{Environment.ProcessId}.tmp");
        try
        {
            File.WriteAllText(temp, text);
            File.Move(temp, file, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }
}
