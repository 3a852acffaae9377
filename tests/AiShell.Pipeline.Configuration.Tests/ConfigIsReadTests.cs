using System.Reflection;
using System.Text.RegularExpressions;

namespace AiShell.Pipeline.Configuration.Tests;

/// <summary>
/// A documented key that nothing reads is a switch that does nothing (metrics.queries, .connections
/// and .performance once were). Every setting the config holds must be read by code outside the
/// configuration library, and every documented key must be a key the loader knows.
/// </summary>
public sealed partial class ConfigIsReadTests
{
    private static string RepoRoot()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "AiShell.Pipeline.sln")))
        {
            dir = Path.GetDirectoryName(dir);
        }

        return dir ?? throw new InvalidOperationException("AiShell.Pipeline.sln not found above " + AppContext.BaseDirectory);
    }

    [Fact]
    public void EverySetting_IsReadOutsideTheConfigurationLibrary()
    {
        string src = Path.Combine(RepoRoot(), "src");
        // Everything but where values are parsed, set, shown or checked, and without the declarations.
        string[] writers = ["ConfigKeys.cs", "ConfigKey.cs", "ConfigLoader.cs", "ConfigEditor.cs", "ConfigChecks.cs", "WebConfigParser.cs", "DatabasesParser.cs", "CustomMetricsParser.cs"];
        string code = string.Join('\n', Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !writers.Contains(Path.GetFileName(f)))
            .SelectMany(File.ReadLines)
            .Where(line => !line.Contains("{ get;", StringComparison.Ordinal) && !line.Contains("{ get; }", StringComparison.Ordinal)));
        var unread = new List<string>();
        foreach (Type type in new[] { typeof(ExporterConfig), typeof(WebConfig), typeof(DatabaseConfig) })
        {
            foreach (PropertyInfo property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                if (!Regex.IsMatch(code, @"\b" + property.Name + @"\b"))
                {
                    unread.Add($"{type.Name}.{property.Name}");
                }
            }
        }

        Assert.Empty(unread);
    }

    [Fact]
    public void EveryKeyTheReadmeDocuments_IsAKeyTheLoaderKnows()
    {
        string readme = File.ReadAllText(Path.Combine(RepoRoot(), "README.md"));
        var keys = new List<string>();
        foreach (Match row in KeyRow().Matches(readme))
        {
            // `prometheus.metrics.{queries,connections}` is two keys; `prometheus.labels.NAME` stands for any name.
            string key = row.Groups[1].Value.Replace("NAME", "team", StringComparison.Ordinal).Replace("SET", "query_duration", StringComparison.Ordinal);
            Match set = Regex.Match(key, @"\{([a-z_,]+)\}");
            keys.AddRange(set.Success ? set.Groups[1].Value.Split(',').Select(k => key.Replace(set.Value, k, StringComparison.Ordinal)) : [key]);
        }

        Assert.True(keys.Count >= 30, "the README's config table was not found");
        List<string> unknown = [.. keys.Where(key => ConfigKeys.Find(key) is null)];
        Assert.Empty(unknown);
        List<string> undocumented = [.. ConfigKeys.Fixed.Select(k => k.Path).Where(path => !keys.Contains(path)
            && !path.StartsWith("prometheus.alerts.", StringComparison.Ordinal) && path is not "prometheus.discovery.consul.service")];
        Assert.Empty(undocumented);
    }

    [GeneratedRegex(@"^\| `(prometheus\.[A-Za-z_.{},]+)`", RegexOptions.Multiline)]
    private static partial Regex KeyRow();
}
