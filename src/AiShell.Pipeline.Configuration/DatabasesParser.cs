using AiShell.Pipeline.Metrics.Pipeline;
using AiShell.Pipeline.Metrics.Internal;
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

    public static string? Apply(ExporterConfig config, YamlNode node)
    {
        if (node is not YamlSequenceNode sequence)
        {
            return "must be a list of {name, connection_string, ...}";
        }

        var parsed = new List<DatabaseConfig>();
        int index = 0;
        foreach (YamlNode item in sequence)
        {
            string? error = ParseOne(item, out DatabaseConfig? database);
            if (error is not null)
            {
                return $"entry {index}: {error}";
            }

            if (parsed.Exists(d => d.Name == database!.Name))
            {
                return $"entry {index}: name '{database!.Name}' is used twice";
            }

            parsed.Add(database!);
            index++;
        }

        config.Databases.Clear();
        config.Databases.AddRange(parsed);
        return null;
    }

    /// <summary>Names only: connection strings may hold passwords and are never shown.</summary>
    public static string Show(ExporterConfig config) =>
        config.Databases.Count == 0 ? "[]"
            : string.Join("\n", config.Databases.Select(d => $"- {d.Name}{(d.AutoDiscover ? " (auto_discover)" : "")}"));

    private static string? ParseOne(YamlNode item, out DatabaseConfig? database)
    {
        database = null;
        if (item is not YamlMappingNode map)
        {
            return "must be a mapping with name and connection_string";
        }

        foreach (YamlNode key in map.Children.Keys)
        {
            string k = ConfigKeys.Describe(key);
            if (Array.IndexOf(Fields, k) < 0)
            {
                return $"unknown field '{k}' (expected {string.Join(", ", Fields)})";
            }
        }

        string name = Scalar(map, "name") ?? "";
        if (name.Length == 0 || name.Any(char.IsControl))
        {
            return "name is required (it becomes the database label)";
        }

        string connection = Scalar(map, "connection_string") ?? "";
        if (connection.Length == 0)
        {
            return $"'{name}': connection_string is required";
        }

        var labels = new List<KeyValuePair<string, string>>();
        if (map.Children.TryGetValue(new YamlScalarNode("labels"), out YamlNode? labelNode))
        {
            if (labelNode is not YamlMappingNode labelMap)
            {
                return $"'{name}': labels must be a mapping of label name to value";
            }

            foreach ((YamlNode k, YamlNode v) in labelMap.Children)
            {
                string label = ConfigKeys.Describe(k);
                if (!NameRules.IsValidLabelName(label) || label is "database")
                {
                    return $"'{name}': '{label}' is not a usable label name";
                }

                labels.Add(new(label, ConfigKeys.Describe(v)));
            }
        }

        TimeSpan timeout = DatabaseConfig.DefaultStatementTimeout;
        if (Scalar(map, "statement_timeout") is { } t)
        {
            if (!Scalars.TryDuration(t, out timeout) || timeout < TimeSpan.FromMilliseconds(10) || timeout > TimeSpan.FromMinutes(10))
            {
                return $"'{name}': statement_timeout '{t}' is not a duration between 10ms and 10m";
            }
        }

        bool discover = false;
        if (Scalar(map, "auto_discover") is { } d && !Scalars.TryBool(d, out discover))
        {
            return $"'{name}': auto_discover '{d}' is not a boolean";
        }

        int top = DatabaseConfig.DefaultTopTables;
        if (Scalar(map, "top_tables") is { } n && (!Scalars.TryInt(n, out top) || top < 0 || top > 10_000))
        {
            return $"'{name}': top_tables '{n}' is not a whole number from 0 to 10000";
        }

        QuerySource source = QuerySource.Auto;
        if (Scalar(map, "query_source") is { } q)
        {
            switch (q)
            {
                case "auto": source = QuerySource.Auto; break;
                case "events": source = QuerySource.Events; break;
                case "statements": source = QuerySource.Statements; break;
                default: return $"'{name}': query_source '{q}' must be auto, events or statements";
            }
        }

        string? includeError = ReadNames(map, "include", name, out string[] include);
        string? excludeError = ReadNames(map, "exclude", name, out string[] exclude);
        if ((includeError ?? excludeError) is { } error)
        {
            return error;
        }

        if (!discover && (include.Length > 0 || exclude.Length > 0))
        {
            return $"'{name}': include/exclude apply only with auto_discover: true";
        }

        database = new DatabaseConfig
        {
            Name = name,
            ConnectionString = connection,
            PasswordFile = Scalar(map, "password_file"),
            PasswordEnv = Scalar(map, "password_env"),
            Labels = labels,
            StatementTimeout = timeout,
            AutoDiscover = discover,
            Include = include,
            Exclude = exclude,
            TopTables = top,
            QuerySource = source,
        };
        return null;
    }

    private static string? ReadNames(YamlMappingNode map, string field, string name, out string[] names)
    {
        names = [];
        if (!map.Children.TryGetValue(new YamlScalarNode(field), out YamlNode? node))
        {
            return null;
        }

        if (node is not YamlSequenceNode seq)
        {
            return $"'{name}': {field} must be a list of database names";
        }

        names = seq.Select(ConfigKeys.Describe).ToArray();
        return null;
    }

    private static string? Scalar(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out YamlNode? v) && v is YamlScalarNode s ? s.Value : null;
}
