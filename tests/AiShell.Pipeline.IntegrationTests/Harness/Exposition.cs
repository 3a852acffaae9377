using System.Globalization;

namespace AiShell.Pipeline.IntegrationTests.Harness;

/// <summary>Reads sample lines back out of exposition text, for assertions.</summary>
internal static class Exposition
{
    /// <summary>Sample lines as (series, value), comments skipped.</summary>
    public static List<(string Series, double Value)> Samples(string text)
    {
        var result = new List<(string, double)>();
        foreach (string line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            int space = line.LastIndexOf(' ');
            string value = line[(space + 1)..];
            result.Add((line[..space], value switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                "NaN" => double.NaN,
                _ => double.Parse(value, CultureInfo.InvariantCulture),
            }));
        }

        return result;
    }

    public static double Value(string text, string series) =>
        Samples(text).Single(s => s.Series == series).Value;

    /// <summary>The sum of every sample whose series starts with <paramref name="seriesPrefix"/> (0 when none).</summary>
    public static double Sum(string text, string seriesPrefix) =>
        Samples(text).Where(s => s.Series.StartsWith(seriesPrefix, StringComparison.Ordinal)).Sum(s => s.Value);

    public static bool Has(string text, string metricPrefix) =>
        Samples(text).Exists(s => s.Series.StartsWith(metricPrefix, StringComparison.Ordinal));
}
