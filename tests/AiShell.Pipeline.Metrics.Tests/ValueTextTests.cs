using AiShell.Pipeline.Tests.Shared;
using System.Globalization;
using AiShell.Pipeline.Metrics.Exposition;
using AiShell.Pipeline.Metrics.Internal;

namespace AiShell.Pipeline.Metrics.Tests;

public sealed class ValueTextTests
{
    [Fact]
    public void CopiesOnlyTheValueItHolds()
    {
        var cache = new ValueText();
        Span<byte> into = stackalloc byte[32];
        Assert.False(cache.TryCopy(0.1, into, out _)); // nothing cached yet

        cache.Publish(0.30000000000000004, "0.30000000000000004"u8);
        Assert.True(cache.TryCopy(0.30000000000000004, into, out int written));
        Assert.Equal("0.30000000000000004", System.Text.Encoding.UTF8.GetString(into[..written]));
        Assert.False(cache.TryCopy(0.3, into, out _)); // another value: format it
    }

    [Fact]
    public async Task RacingPublishers_NeverHandAReaderTheWrongText()
    {
        // Two values whose texts differ in length and bytes: a torn copy (the bits of one, the
        // text or length of the other) cannot pass for either.
        (double Value, string Text)[] values = [(0.1, "0.1"), (0.30000000000000004, "0.30000000000000004")];
        var cache = new ValueText();
        const int Rounds = 300_000;
        int publishing = 2;
        Task publisher(int offset) => Task.Run(() =>
        {
            for (int i = 0; i < Rounds; i++)
            {
                (double value, string text) = values[(i + offset) & 1];
                cache.Publish(value, System.Text.Encoding.UTF8.GetBytes(text));
                Thread.SpinWait(i & 31); // vary the gaps, so readers also find a settled text
            }

            Interlocked.Decrement(ref publishing);
        });
        Task reader(int offset) => Task.Run(() =>
        {
            Span<byte> into = stackalloc byte[32];
            for (int i = 0; Volatile.Read(ref publishing) > 0 || i < Rounds; i++) // reads while the publishers run
            {
                (double value, string text) = values[(i + offset) & 1];
                if (cache.TryCopy(value, into, out int written))
                {
                    Assert.Equal(text, System.Text.Encoding.UTF8.GetString(into[..written]));
                }
            }
        });

        Task[] publishers = [publisher(0), publisher(1)];
        await Task.WhenAll(reader(0), reader(1)).WaitAsync(TimeSpan.FromSeconds(60));
        await Task.WhenAll(publishers).WaitAsync(TimeSpan.FromSeconds(60));
        // How many racing reads hit depends on the scheduler (none, on a loaded machine, is possible):
        // what must hold is that no hit was wrong, and that a settled text is found.
        Span<byte> settled = stackalloc byte[32];
        Assert.True(cache.TryCopy(values[0].Value, settled, out _) || cache.TryCopy(values[1].Value, settled, out _),
            "the last published text is not found once the publishers stopped");
    }

    [Fact]
    public void SumLine_FollowsTheSum_AfterItWasCached()
    {
        var registry = new MetricRegistry(new MetricOptions { Prefix = "t" });
        Series h = registry.Register(new MetricDescriptor("d_seconds", "D.", MetricType.Histogram, ["db"], Buckets: [0.1, 1])).WithLabels("a");
        h.Observe(0.1);
        h.Observe(0.2);
        Assert.Contains("t_d_seconds_sum{db=\"a\"} 0.30000000000000004\n", TestRegistries.Render(registry, ExpositionFormat.Text));
        Assert.Contains("t_d_seconds_sum{db=\"a\"} 0.30000000000000004\n", TestRegistries.Render(registry, ExpositionFormat.Text));
        h.Observe(0.05);
        Assert.Contains("t_d_seconds_sum{db=\"a\"} 0.35000000000000003\n", TestRegistries.Render(registry, ExpositionFormat.Text));
    }

    [Fact]
    public async Task ConcurrentScrapes_NeverSeeAMixOfTwoTexts()
    {
        var registry = new MetricRegistry(new MetricOptions { Prefix = "t" });
        Series h = registry.Register(new MetricDescriptor("d_seconds", "D.", MetricType.Histogram, ["db"], Buckets: [0.1, 1])).WithLabels("a");
        const int Steps = 20_000;
        var valid = new HashSet<string>(StringComparer.Ordinal);
        double sum = 0;
        for (int i = 1; i <= Steps; i++)
        {
            sum += 0.001 * (i % 7 + 1);
            valid.Add(sum.ToString("R", CultureInfo.InvariantCulture));
        }

        using var done = new CancellationTokenSource();
        var writer = Task.Run(() =>
        {
            for (int i = 1; i <= Steps; i++)
            {
                h.Observe(0.001 * (i % 7 + 1));
            }

            done.Cancel();
        });
        var readers = Enumerable.Range(0, 3).Select(_ => Task.Run(() =>
        {
            var buffer = new ScrapeBuffer();
            int checkedLines = 0;
            while (!done.IsCancellationRequested || checkedLines == 0)
            {
                buffer.Reset();
                ExpositionWriter.Write(buffer, registry, ExpositionFormat.Text);
                string text = System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
                const string Prefix = "t_d_seconds_sum{db=\"a\"} ";
                int found = text.IndexOf(Prefix, StringComparison.Ordinal);
                if (found < 0)
                {
                    continue; // nothing observed yet
                }

                int at = found + Prefix.Length;
                string value = text[at..text.IndexOf('\n', at)];
                Assert.True(valid.Contains(value), $"'{value}' was never the sum");
                checkedLines++;
            }

            return checkedLines;
        })).ToArray();

        await writer.WaitAsync(TimeSpan.FromSeconds(30));
        int[] scrapes = await Task.WhenAll(readers).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.All(scrapes, n => Assert.True(n > 0));
    }
}
