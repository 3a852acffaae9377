using AiShell.Pipeline.Metrics;
using YamlDotNet.RepresentationModel;

namespace AiShell.Pipeline.Configuration;

/// <summary>Reads <c>prometheus.custom_metrics</c>: a list of metric declarations.</summary>
internal static class CustomMetricsParser
{
    private static readonly string[] Fields = ["name", "type", "help", "labels", "buckets", "query", "databases"];

    public static void Apply(ExporterConfig config, YamlNode node, ValueProblems problems)
    {
        if (node is not YamlSequenceNode sequence)
        {
            problems.Add(node, "must be a list of {name, type, help, labels}");
            return;
        }

        var parsed = new List<CustomMetricConfig>();
        int before = problems.Count;
        int index = 0;
        foreach (YamlNode item in sequence)
        {
            string field = $"[{index}]";
            string? error = ParseOne(item, out CustomMetricConfig? metric, out string at);
            if (error is not null)
            {
                // At the field at fault, when it is there: its line, and its name in the key.
                YamlNode where = at.Length > 0 && item is YamlMappingNode map && map.Children.TryGetValue(new YamlScalarNode(at), out YamlNode? value) ? value : item;
                problems.Add(where, error, at.Length > 0 ? $"{field}.{at}" : field);
            }
            else if (parsed.Exists(m => m.DeclaredName == metric!.DeclaredName || m.Name == metric!.Name))
            {
                problems.Add(item, $"'{metric!.DeclaredName}' is declared twice", field);
            }
            else if (BuiltIn(metric!) is { } builtIn)
            {
                problems.Add(item, $"'{metric!.DeclaredName}' is the name of a built-in metric ({builtIn}): its numbers would mix with the exporter's own; choose another name", field);
            }
            else
            {
                parsed.Add(metric!);
            }

            index++;
        }

        if (problems.Count == before)
        {
            config.CustomMetrics.Clear();
            config.CustomMetrics.AddRange(parsed);
        }
    }

    /// <summary>The built-in family a custom metric's name (declared or exposed, with or without _total) would collide with, or null.</summary>
    private static string? BuiltIn(CustomMetricConfig metric)
    {
        foreach (MetricDescriptor descriptor in MetricCatalog.All)
        {
            string name = descriptor.Name;
            string bare = name.EndsWith("_total", StringComparison.Ordinal) ? name[..^"_total".Length] : name;
            if (metric.Name == name || metric.DeclaredName == name || metric.DeclaredName == bare || metric.Name == bare)
            {
                return name;
            }
        }

        return null;
    }

    public static string Show(ExporterConfig config) =>
        config.CustomMetrics.Count == 0 ? "[]"
            : string.Join("\n", config.CustomMetrics.Select(m =>
                $"- {m.Name} ({m.Type.ToString().ToLowerInvariant()}, labels: [{string.Join(", ", m.Labels)}])"));

    /// <param name="at">The field the error concerns ("" for the entry as a whole).</param>
    private static string? ParseOne(YamlNode item, out CustomMetricConfig? metric, out string at)
    {
        metric = null;
        at = "";
        if (item is not YamlMappingNode map)
        {
            return "must be a mapping with name, type, help and labels";
        }

        foreach (YamlNode key in map.Children.Keys)
        {
            string k = ConfigKeys.Describe(key);
            if (Array.IndexOf(Fields, k) < 0)
            {
                at = k;
                return $"unknown field '{k}' (expected {string.Join(", ", Fields)})";
            }
        }

        string name = Scalar(map, "name") ?? "";
        if (!NameRules.IsValidMetricName(name) || name.Contains(':', StringComparison.Ordinal))
        {
            at = "name";
            return $"name '{name}' is not a valid metric name";
        }

        MetricType type;
        switch (Scalar(map, "type"))
        {
            case "counter": type = MetricType.Counter; break;
            case "gauge": type = MetricType.Gauge; break;
            case "histogram": type = MetricType.Histogram; break;
            case var other:
                at = "type";
                return $"'{name}': type '{other}' is not counter, gauge or histogram";
        }

        string help = Scalar(map, "help") ?? "";
        if (help.Length == 0)
        {
            at = "help";
            return $"'{name}': help is required";
        }

        var labels = new List<string>();
        if (map.Children.TryGetValue(new YamlScalarNode("labels"), out YamlNode? labelNode))
        {
            if (labelNode is not YamlSequenceNode labelSeq)
            {
                at = "labels";
                return $"'{name}': labels must be a list of label names";
            }

            foreach (YamlNode l in labelSeq)
            {
                string label = ConfigKeys.Describe(l);
                if (!NameRules.IsValidLabelName(label) || (type == MetricType.Histogram && label == "le") || labels.Contains(label))
                {
                    at = "labels";
                    return $"'{name}': '{label}' is not a usable label name";
                }

                labels.Add(label);
            }
        }

        double[]? buckets = null;
        if (map.Children.TryGetValue(new YamlScalarNode("buckets"), out YamlNode? bucketNode))
        {
            if (type != MetricType.Histogram)
            {
                at = "buckets";
                return $"'{name}': buckets apply to histograms only";
            }

            string? error = ConfigKeys.ReadNumbers(bucketNode, out double[] bounds);
            if (error is not null)
            {
                at = "buckets";
                return $"'{name}': buckets {error}";
            }

            buckets = bounds;
        }

        string? query = Scalar(map, "query");
        if (query is not null && (query.Trim().Length == 0 || type == MetricType.Histogram))
        {
            at = "query";
            return $"'{name}': query must be non-empty SQL, on a counter or gauge";
        }

        string[]? databases = null;
        if (map.Children.TryGetValue(new YamlScalarNode("databases"), out YamlNode? dbNode))
        {
            if (query is null || dbNode is not YamlSequenceNode dbSeq)
            {
                at = "databases";
                return $"'{name}': databases is a list of database names and needs a query";
            }

            databases = dbSeq.Select(ConfigKeys.Describe).ToArray();
        }

        // Counters follow the Prometheus convention: the exposed name ends in _total.
        string exposed = type == MetricType.Counter && !name.EndsWith("_total", StringComparison.Ordinal) ? name + "_total" : name;
        metric = new CustomMetricConfig(exposed, type, help, [.. labels], buckets, query, databases) { DeclaredName = name };
        return null;
    }

    private static string? Scalar(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out YamlNode? v) && v is YamlScalarNode s ? s.Value : null;
}
