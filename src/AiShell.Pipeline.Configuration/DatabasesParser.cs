using AiShell.Pipeline.Metrics;
using AiShell.Pipeline.Metrics.Flow;
using YamlDotNet.RepresentationModel;

namespace AiShell.Pipeline.Configuration;

/// <summary>Reads <c>prometheus.databases</c>: the PostgreSQL targets.</summary>
internal static class DatabasesParser
{
    private static readonly string[] Fields =
    [
        "name", "connection_string", "password_file", "password_env", "labels", "statement_timeout",
        "auto_discover", "include", "exclude", "top_tables", "query_source",
    ];

    public static void Apply(ExporterConfig config, YamlNode node, ValueProblems problems)
    {
        if (node is not YamlSequenceNode sequence)
        {
            problems.Add(node, "must be a list of {name, connection_string, ...}");
            return;
        }

        // Entries with problems are kept too: the config is refused anyway, and keeping them lets the
        // checks of what they name (password files, connection strings) report in the same pass.
        var parsed = new List<DatabaseConfig>();
        int index = 0;
        foreach (YamlNode item in sequence)
        {
            var entry = new Entry(config, problems, $"[{index}]");
            if (ParseOne(item, entry) is { } database)
            {
                if (parsed.Exists(d => d.Name == database.Name))
                {
                    entry.Problem(item, "name", $"'{database.Name}' is used twice");
                }

                parsed.Add(database);
            }

            index++;
        }

        config.Databases.Clear();
        config.Databases.AddRange(parsed);
    }

    /// <summary>Names only: connection strings may hold passwords and are never shown.</summary>
    public static string Show(ExporterConfig config) =>
        config.Databases.Count == 0 ? "[]"
            : string.Join("\n", config.Databases.Select(d => $"- {d.Name}{(d.AutoDiscover ? " (auto_discover)" : "")}"));

    /// <summary>One entry's fields: where problems go and which lines the later checks point at.</summary>
    private readonly record struct Entry(ExporterConfig Config, ValueProblems Problems, string Index)
    {
        public void Problem(YamlNode at, string field, string reason) => Problems.Add(at, reason, field.Length == 0 ? Index : $"{Index}.{field}");

        /// <summary>The field's text, its line noted for later checks; null when absent or not a single value.</summary>
        public string? Scalar(YamlMappingNode map, string field) => TryScalar(map, field, out string text, out _) ? text : null;

        public bool TryScalar(YamlMappingNode map, string field, out string text, out YamlNode at)
        {
            text = "";
            at = map;
            if (!map.Children.TryGetValue(new YamlScalarNode(field), out YamlNode? value))
            {
                return false;
            }

            at = value;
            Config.Lines[$"prometheus.databases{Index}.{field}"] = value.Start.Line;
            if (value is YamlScalarNode { Value: { } scalar })
            {
                text = scalar;
                return true;
            }

            Problem(value, field, "must be a single value");
            return false;
        }
    }

    private static DatabaseConfig? ParseOne(YamlNode item, Entry entry)
    {
        if (item is not YamlMappingNode map)
        {
            entry.Problem(item, "", "must be a mapping with name and connection_string");
            return null;
        }

        foreach (YamlNode key in map.Children.Keys)
        {
            string k = ConfigKeys.Describe(key);
            if (Array.IndexOf(Fields, k) < 0)
            {
                entry.Problem(key, k, $"unknown field (expected {string.Join(", ", Fields)})");
            }
        }

        string name = entry.Scalar(map, "name") ?? "";
        if (name.Length == 0 || name.Any(char.IsControl))
        {
            entry.Problem(map, "name", "is required (it becomes the database label)");
        }

        string connection = entry.Scalar(map, "connection_string") ?? "";
        if (connection.Length == 0)
        {
            entry.Problem(map, "connection_string", "is required (host=... dbname=... user=..., or a postgresql:// URL)");
        }

        var labels = new List<KeyValuePair<string, string>>();
        if (map.Children.TryGetValue(new YamlScalarNode("labels"), out YamlNode? labelNode))
        {
            if (labelNode is not YamlMappingNode labelMap)
            {
                entry.Problem(labelNode, "labels", "must be a mapping of label name to value");
            }
            else
            {
                foreach ((YamlNode k, YamlNode v) in labelMap.Children)
                {
                    string label = ConfigKeys.Describe(k);
                    if (!NameRules.IsValidLabelName(label) || label is "database")
                    {
                        entry.Problem(k, "labels", $"'{label}' is not a usable label name");
                    }

                    labels.Add(new(label, ConfigKeys.Describe(v)));
                }
            }
        }

        TimeSpan timeout = DatabaseConfig.DefaultStatementTimeout;
        if (entry.TryScalar(map, "statement_timeout", out string t, out YamlNode at)
            && (!Scalars.TryDuration(t, out timeout) || timeout < TimeSpan.FromMilliseconds(10) || timeout > TimeSpan.FromMinutes(10)))
        {
            entry.Problem(at, "statement_timeout", $"'{t}' is not a duration between 10ms and 10m");
        }

        bool discover = false;
        if (entry.TryScalar(map, "auto_discover", out string d, out at) && !Scalars.TryBool(d, out discover))
        {
            entry.Problem(at, "auto_discover", $"'{d}' is not a boolean (true/false)");
        }

        int top = DatabaseConfig.DefaultTopTables;
        if (entry.TryScalar(map, "top_tables", out string n, out at) && (!Scalars.TryInt(n, out top) || top < 0 || top > 10_000))
        {
            entry.Problem(at, "top_tables", $"'{n}' is not a whole number from 0 to 10000");
        }

        QuerySource source = QuerySource.Auto;
        if (entry.TryScalar(map, "query_source", out string q, out at))
        {
            switch (q)
            {
                case "auto": break;
                case "events": source = QuerySource.Events; break;
                case "statements": source = QuerySource.Statements; break;
                default: entry.Problem(at, "query_source", $"'{q}' must be auto, events or statements"); break;
            }
        }

        string[] include = ReadNames(map, "include", entry);
        string[] exclude = ReadNames(map, "exclude", entry);
        if (!discover && (include.Length > 0 || exclude.Length > 0))
        {
            entry.Problem(map, include.Length > 0 ? "include" : "exclude", "applies only with auto_discover: true");
        }

        string? passwordFile = entry.Scalar(map, "password_file");
        string? passwordEnv = entry.Scalar(map, "password_env");
        return new DatabaseConfig
        {
            Name = name,
            ConnectionString = connection,
            PasswordFile = passwordFile,
            PasswordEnv = passwordEnv,
            Labels = labels,
            StatementTimeout = timeout,
            AutoDiscover = discover,
            Include = include,
            Exclude = exclude,
            TopTables = top,
            QuerySource = source,
        };
    }

    private static string[] ReadNames(YamlMappingNode map, string field, Entry entry)
    {
        if (!map.Children.TryGetValue(new YamlScalarNode(field), out YamlNode? node))
        {
            return [];
        }

        if (node is not YamlSequenceNode seq)
        {
            entry.Problem(node, field, "must be a list of database names");
            return [];
        }

        return [.. seq.Select(ConfigKeys.Describe)];
    }
}
