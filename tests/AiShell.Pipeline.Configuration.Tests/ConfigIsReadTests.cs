using System.Reflection;
using System.Text.RegularExpressions;

namespace AiShell.Pipeline.Configuration.Tests;

/// <summary>
/// A documented key that nothing reads is a switch that does nothing (metrics.queries, .connections
/// and .performance once were). Every setting the config holds must be read by code outside the
/// configuration library, and the reference document must be the loader's own key table.
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

    /// <summary>docs/configuration.md's key table is the loader's key table (regenerate: aishell config docs --update docs/configuration.md).</summary>
    [Fact]
    public void TheConfigurationReference_IsTheKeyTable()
    {
        string document = File.ReadAllText(Path.Combine(RepoRoot(), "docs", "configuration.md"));
        Assert.Equal(ConfigReference.Table(), ConfigReference.Region(document));
        var documented = KeyRow().Matches(document).Select(m => m.Groups[1].Value).ToList();
        foreach (ConfigKey key in ConfigKeys.Fixed)
        {
            Assert.Contains(key.Path, documented);
        }

        Assert.All(documented, key => Assert.NotNull(ConfigKeys.Find(key.Replace("NAME", "team", StringComparison.Ordinal))));
    }

    [GeneratedRegex(@"^\| `(prometheus\.[A-Za-z_.]+)`", RegexOptions.Multiline)]
    private static partial Regex KeyRow();
}
