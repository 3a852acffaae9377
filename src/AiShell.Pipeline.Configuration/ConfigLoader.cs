using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace AiShell.Pipeline.Configuration;

/// <summary>
/// Finds and reads the config: <c>--config FILE</c>, else <c>$AISHELL_CONFIG</c>, else
/// <c>~/.aishell/config/prometheus.yaml</c>; when none exists the defaults apply. Every unknown key
/// and bad value is reported with file, line, key and reason.
/// </summary>
public static class ConfigLoader
{
    public const string EnvironmentVariable = "AISHELL_CONFIG";

    public static string DefaultPath =>
        System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".aishell", "config", "prometheus.yaml");

    /// <summary>The file a command should read or edit, and whether the user named it explicitly.</summary>
    public static (string Path, bool Explicit) Resolve(string? cliPath)
    {
        if (!string.IsNullOrWhiteSpace(cliPath))
        {
            return (System.IO.Path.GetFullPath(cliPath), true);
        }

        string? env = Environment.GetEnvironmentVariable(EnvironmentVariable);
        return !string.IsNullOrWhiteSpace(env) ? (System.IO.Path.GetFullPath(env), true) : (DefaultPath, false);
    }

    /// <summary>
    /// Loads the config. A file named explicitly must exist; the default path may be absent, in which
    /// case the embedded defaults are used. <paramref name="check"/> looks at what the config points
    /// at (files, connection strings); its problems are reported with the file's own, all at once.
    /// </summary>
    public static ExporterConfig Load(string? cliPath, Func<ExporterConfig, IEnumerable<ConfigError>>? check = null)
    {
        (string path, bool isExplicit) = Resolve(cliPath);
        if (Directory.Exists(path))
        {
            throw new ConfigException($"{path}: is a directory, not a config file");
        }

        if (!File.Exists(path))
        {
            return isExplicit ? throw new ConfigException($"{path}: config file not found") : new ExporterConfig();
        }

        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"{path}: cannot read config file: {ex.Message}", ex);
        }

        return Parse(text, path, requireSettings: true, check);
    }

    /// <param name="requireSettings">
    /// A file read to run must hold a <c>prometheus:</c> section with at least one setting. An empty
    /// file, or one cut off after <c>prometheus:</c>, is what a half-written or truncated file looks
    /// like: running it would mean the defaults (every address, no access control, no databases), so
    /// it is refused. To run on the defaults, remove the file. (<c>config set</c> starts from nothing.)
    /// </param>
    public static ExporterConfig Parse(string yaml, string source, bool requireSettings = false,
        Func<ExporterConfig, IEnumerable<ConfigError>>? check = null)
    {
        YamlMappingNode? root = ParseDocument(yaml, source);
        var config = new ExporterConfig { Source = source };
        if (root is null)
        {
            return requireSettings
                ? throw new ConfigException($"{source}: the file is empty; a config file needs a 'prometheus:' section with settings (remove the file to run on the defaults)")
                : config;
        }

        var errors = new List<ConfigError>();
        YamlMappingNode? section = FindSection(root, source, errors);
        if (requireSettings && errors.Count == 0 && section is not { Children.Count: > 0 })
        {
            throw new ConfigException([new ConfigError(source, "prometheus",
                "the section is empty: is the file complete? (remove the file to run on the defaults)", root.Start.Line)]);
        }

        if (section is not null)
        {
            Walk(section, "prometheus", config, source, errors);
        }

        CrossCheck(config, source, errors);
        if (check is not null)
        {
            errors.AddRange(check(config));
        }

        return errors.Count > 0 ? throw new ConfigException([.. errors.OrderBy(static e => e.Line == 0 ? long.MaxValue : e.Line)]) : config;
    }

    /// <summary>Rules that span keys: names a custom metric's databases list must exist.</summary>
    private static void CrossCheck(ExporterConfig config, string source, List<ConfigError> errors)
    {
        foreach (CustomMetricConfig metric in config.CustomMetrics)
        {
            foreach (string database in metric.Databases ?? [])
            {
                if (!config.Databases.Exists(d => d.Name == database))
                {
                    errors.Add(config.ErrorAt("prometheus.custom_metrics",
                        $"'{metric.Name}' names database '{database}', which is not in prometheus.databases"));
                }
            }

            if (metric.Query is not null && config.Databases.Count == 0)
            {
                errors.Add(config.ErrorAt("prometheus.custom_metrics",
                    $"'{metric.Name}' has a query but prometheus.databases is empty"));
            }
        }

        if (config.ClusterEnabled && config.ClusterSeedNodes.Count == 0)
        {
            errors.Add(config.ErrorAt("prometheus.cluster.seed_nodes",
                "the cluster is on but no seed node is listed: list the members to join (HOST:PORT), the same list on every member"));
        }

        if (config.IngestMaxInflightBytes < config.IngestMaxBodyBytes)
        {
            errors.Add(config.ErrorAt("prometheus.ingest.max_inflight_bytes",
                $"{config.IngestMaxInflightBytes} is less than prometheus.ingest.max_body_bytes ({config.IngestMaxBodyBytes}): a body of the largest size could never be taken"));
        }

        foreach (DatabaseConfig database in config.Databases)
        {
            foreach ((string label, _) in database.Labels)
            {
                if (config.ConstantLabels.Exists(kv => kv.Key == label))
                {
                    errors.Add(config.ErrorAt("prometheus.databases",
                        $"'{database.Name}': label '{label}' is already a constant label in prometheus.labels"));
                }
            }
        }
    }

    /// <summary>
    /// For a document the parser refused, the two mistakes whose parser position misleads: a tab in
    /// the indentation (YamlDotNet names the mapping above it) and a '[' or '{' never closed (it
    /// fails at the end of the file, or with "Operation is not valid due to the current state of the
    /// object"). Null when neither is found: the parser's own message and line stand.
    /// </summary>
    internal static (string Reason, long Line)? LikelyCause(string yaml)
    {
        string[] lines = yaml.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i];
            int content = 0;
            while (content < line.Length && line[content] is ' ' or '\t')
            {
                content++;
            }

            if (content < line.Length && line[content] != '#' && line.AsSpan(0, content).Contains('\t'))
            {
                return ("a tab in the indentation: YAML indents with spaces only", i + 1);
            }
        }

        var open = new Stack<(char Bracket, int Line)>();
        for (int i = 0; i < lines.Length; i++)
        {
            char quote = '\0';
            foreach (char c in lines[i])
            {
                if (quote != '\0')
                {
                    quote = c == quote ? '\0' : quote;
                }
                else if (c is '"' or '\'')
                {
                    quote = c;
                }
                else if (c == '#')
                {
                    break;
                }
                else if (c is '[' or '{')
                {
                    open.Push((c, i + 1));
                }
                else if (c is ']' or '}' && open.Count > 0 && open.Peek().Bracket == (c == ']' ? '[' : '{'))
                {
                    open.Pop();
                }
            }
        }

        if (open.Count > 0)
        {
            (char bracket, int line) = open.Peek();
            return ($"the '{bracket}' opened on this line is never closed with '{(bracket == '[' ? ']' : '}')}'", line);
        }

        return null;
    }

    /// <summary>The document's root mapping, or null for an empty file.</summary>
    internal static YamlMappingNode? ParseDocument(string yaml, string source)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException ex)
        {
            (string reason, long line) = LikelyCause(yaml) ?? (ex.Message, ex.Start.Line);
            throw new ConfigException([new ConfigError(source, "(syntax)", reason, line)]);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or FormatException or OverflowException)
        {
            // YamlDotNet's scanner throws these on some malformed input (found by ConfigFuzzTests).
            (string reason, long line) = LikelyCause(yaml) ?? ("not valid YAML: " + ex.Message, 0);
            throw new ConfigException([new ConfigError(source, "(syntax)", reason, line)]);
        }

        if (stream.Documents.Count == 0)
        {
            return null;
        }

        return stream.Documents[0].RootNode switch
        {
            YamlMappingNode map => map,
            YamlScalarNode { Value: null or "" } => null,
            var other => throw new ConfigException([new ConfigError(source, "(root)", "must be a mapping with a 'prometheus:' section", other.Start.Line)]),
        };
    }

    private static YamlMappingNode? FindSection(YamlMappingNode root, string source, List<ConfigError> errors)
    {
        YamlMappingNode? section = null;
        foreach ((YamlNode keyNode, YamlNode value) in root.Children)
        {
            string key = ConfigKeys.Describe(keyNode);
            YamlNode? candidate = key switch
            {
                "prometheus" => value,
                "integrations" when value is YamlMappingNode integrations
                    && integrations.Children.TryGetValue(new YamlScalarNode("prometheus"), out YamlNode? inner) => inner,
                _ => null,
            };

            if (candidate is null)
            {
                errors.Add(new ConfigError(source, key, "unknown key (expected 'prometheus:')", keyNode.Start.Line));
                continue;
            }

            if (section is not null)
            {
                errors.Add(new ConfigError(source, key, "the prometheus section is given twice", keyNode.Start.Line));
                continue;
            }

            if (candidate is YamlMappingNode map)
            {
                section = map;
            }
            else if (candidate is not YamlScalarNode { Value: null or "" })
            {
                errors.Add(new ConfigError(source, "prometheus", "must be a mapping", candidate.Start.Line));
            }
        }

        return section;
    }

    private static void Walk(YamlMappingNode map, string prefix, ExporterConfig config, string source, List<ConfigError> errors)
    {
        foreach ((YamlNode keyNode, YamlNode value) in map.Children)
        {
            string path = prefix + "." + ConfigKeys.Describe(keyNode);
            ConfigKey? key = ConfigKeys.Find(path);
            if (key is null)
            {
                if (value is YamlMappingNode nested && path is "prometheus.metrics" or "prometheus.labels" or "prometheus.buckets" or "prometheus.ingest" or "prometheus.alerts" or "prometheus.discovery" or "prometheus.discovery.consul" or "prometheus.cluster")
                {
                    Walk(nested, path, config, source, errors);
                }
                else
                {
                    errors.Add(new ConfigError(source, path, "unknown key", keyNode.Start.Line));
                }

                continue;
            }

            config.Lines[path] = keyNode.Start.Line;
            var problems = new ValueProblems();
            key.Apply(config, value, problems);
            foreach ((string field, string reason, long line) in problems)
            {
                errors.Add(new ConfigError(source, path + field, reason, line));
            }
        }
    }
}
