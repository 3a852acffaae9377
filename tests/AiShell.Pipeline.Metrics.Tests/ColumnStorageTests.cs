using AiShell.Pipeline.Tests.Shared;
using System.Globalization;
using System.Text;
using AiShell.Pipeline.Metrics.Exposition;

namespace AiShell.Pipeline.Metrics.Tests;

/// <summary>
/// The serializer reads series from their family's column chunks and copies label texts in whole
/// vectors out of arena chunks. These tests render registries whose series cross every chunk size
/// and fill arena chunks with texts of every length, and compare each line with one built here from
/// the public API alone.
/// </summary>
public sealed class ColumnStorageTests
{
    [Fact]
    public void EverySeries_IsWrittenFromItsOwnSlot_AcrossChunksAndArenaChunks()
    {
        var registry = new MetricRegistry(new MetricOptions { SeriesLimit = 100_000 });
        MetricFamily counter = registry.Register(MetricDescriptor.Counter("events_total", "Events.", "key"));
        MetricFamily gauge = registry.Register(MetricDescriptor.Gauge("level", "Level.", "key", "side"));
        MetricFamily histogram = registry.Register(new MetricDescriptor("wait_seconds", "Wait.", MetricType.Histogram, ["key"], Buckets: [0.1, 1, 10]));
        var random = new Random(42);
        for (int i = 0; i < 3000; i++)
        {
            // Lengths from 1 to 400 characters: texts end at every offset of an arena chunk, some
            // heads fit the serializer's fixed block and some do not.
            string key = new string((char)('a' + (i % 26)), 1 + random.Next(400)) + i.ToString(CultureInfo.InvariantCulture);
            counter.WithLabels(key).Add(i);
            if (i % 3 == 0)
            {
                gauge.WithLabels(key, i % 2 == 0 ? "left" : "").Set(-i - 0.5); // an empty value leaves the label out
            }

            Series h = histogram.WithLabels(key);
            for (int k = 0; k < i % 5; k++)
            {
                h.Observe(random.NextDouble() * 20);
            }
        }

        Assert.Equal(Expected(registry), TestRegistries.Render(registry, ExpositionFormat.Text));
    }

    [Fact]
    public void UnlabelledFamilies_CloseWithoutBraces()
    {
        var registry = new MetricRegistry();
        registry.Register(MetricDescriptor.Counter("plain_total", "Plain.")).WithLabels().Add(3);
        registry.Register(new MetricDescriptor("plain_seconds", "Plain.", MetricType.Histogram, [], Buckets: [1])).WithLabels().Observe(0.5);

        string text = TestRegistries.Render(registry, ExpositionFormat.Text);

        Assert.Equal(Expected(registry), text);
        Assert.Contains("aishell_plain_seconds_bucket{le=\"1\"} 1\n", text);
        Assert.Contains("aishell_plain_seconds_sum 0.5\n", text);
    }

    [Fact]
    public async Task Streaming_ResumesAtEverySeries_OfEveryChunk()
    {
        var registry = new MetricRegistry(new MetricOptions { SeriesLimit = 100_000 });
        MetricFamily histogram = registry.Register(new MetricDescriptor("t_seconds", "T.", MetricType.Histogram, ["i"], Buckets: [1, 2]));
        for (int i = 0; i < 1500; i++) // chunks of 4, 16, 64, 256, 1024, then a part of the next
        {
            histogram.WithLabels(i.ToString(CultureInfo.InvariantCulture)).Observe(i % 3);
        }

        var buffer = new ScrapeBuffer(256);
        using var destination = new MemoryStream();
        await ExpositionWriter.WriteAsync(buffer, registry, ExpositionFormat.Text, destination, flushAt: 1, CancellationToken.None);
        destination.Write(buffer.WrittenSpan);

        Assert.Equal(Expected(registry), Encoding.UTF8.GetString(destination.ToArray()));
    }

    /// <summary>The 0.0.4 text of <paramref name="registry"/>, built line by line from the public API.</summary>
    private static string Expected(MetricRegistry registry)
    {
        var sb = new StringBuilder();
        foreach (MetricFamily family in registry.Families)
        {
            bool header = false;
            foreach (Series s in family.AllSeries())
            {
                if (!s.HasValue)
                {
                    continue;
                }

                if (!header)
                {
                    sb.Append("# HELP ").Append(family.Name).Append(' ').Append(family.Descriptor.Help).Append('\n');
                    sb.Append("# TYPE ").Append(family.Name).Append(' ').Append(family.Type.ToString().ToLowerInvariant()).Append('\n');
                    header = true;
                }

                var labels = new List<string>();
                for (int i = 0; i < s.LabelValues.Length; i++)
                {
                    if (s.LabelValues[i].Length > 0)
                    {
                        labels.Add($"{family.LabelNames[i]}=\"{s.LabelValues[i]}\"");
                    }
                }

                string Braced(params string[] extra)
                {
                    string[] all = [.. labels, .. extra];
                    return all.Length == 0 ? "" : "{" + string.Join(",", all) + "}";
                }

                if (family.Type == MetricType.Histogram)
                {
                    long cumulative = 0;
                    for (int b = 0; b <= family.Buckets.Length; b++)
                    {
                        cumulative += s.BucketCount(b);
                        string le = b < family.Buckets.Length ? family.Buckets[b].ToString("R", CultureInfo.InvariantCulture) : "+Inf";
                        sb.Append(family.Name).Append("_bucket").Append(Braced($"le=\"{le}\"")).Append(' ').Append(cumulative).Append('\n');
                    }

                    sb.Append(family.Name).Append("_sum").Append(Braced()).Append(' ').Append(Value(s.Sum)).Append('\n');
                    sb.Append(family.Name).Append("_count").Append(Braced()).Append(' ').Append(cumulative).Append('\n');
                }
                else
                {
                    sb.Append(family.Name).Append(Braced()).Append(' ').Append(Value(s.Value)).Append('\n');
                }
            }
        }

        return sb.ToString();
    }

    private static string Value(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
