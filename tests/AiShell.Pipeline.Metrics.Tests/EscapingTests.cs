using AiShell.Pipeline.Tests.Shared;
using AiShell.Pipeline.Metrics.Exposition;

namespace AiShell.Pipeline.Metrics.Tests;

public sealed class EscapingTests
{
    [Theory]
    [InlineData("back\\slash", "back\\\\slash")]
    [InlineData("say \"hi\"", "say \\\"hi\\\"")]
    [InlineData("two\nlines", "two\\nlines")]
    [InlineData("tab\tand é ✓", "tab\tand é ✓")]
    [InlineData("\\\"\n", "\\\\\\\"\\n")]
    public void LabelValues_AreEscapedInBothFormats(string raw, string escaped)
    {
        foreach (ExpositionFormat format in new[] { ExpositionFormat.Text, ExpositionFormat.OpenMetrics })
        {
            var registry = new MetricRegistry();
            registry.Register(MetricDescriptor.Counter("hostile_total", "h", "value")).WithLabels(raw).Add(1);
            string text = TestRegistries.Render(registry, format);
            Assert.Contains($"aishell_hostile_total{{value=\"{escaped}\"}} 1\n", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void LoneSurrogate_IsWrittenAsReplacementCharacter_SoOutputIsValidUtf8()
    {
        var registry = new MetricRegistry();
        registry.Register(MetricDescriptor.Counter("s_total", "s", "v")).WithLabels("a\uD800b").Add(1);
        var buffer = new ScrapeBuffer(64);
        ExpositionWriter.Write(buffer, registry, ExpositionFormat.Text);
        string decoded = new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true).GetString(buffer.WrittenSpan);
        Assert.Contains("v=\"a\uFFFDb\"", decoded, StringComparison.Ordinal);
    }

    [Fact]
    public void Help_EscapesBackslashAndNewline_AndQuoteOnlyInOpenMetrics()
    {
        var registry = new MetricRegistry();
        registry.Register(MetricDescriptor.Gauge("h", "a \\ b\nc \"q\"")).WithLabels().Set(1);
        Assert.Contains("# HELP aishell_h a \\\\ b\\nc \"q\"\n", TestRegistries.Render(registry, ExpositionFormat.Text), StringComparison.Ordinal);
        Assert.Contains("# HELP aishell_h a \\\\ b\\nc \\\"q\\\"\n", TestRegistries.Render(registry, ExpositionFormat.OpenMetrics), StringComparison.Ordinal);
    }

    [Fact]
    public void EmptyLabelValue_IsLeftOut_AsPrometheusTreatsItAsAbsent()
    {
        var registry = new MetricRegistry();
        registry.Register(MetricDescriptor.Gauge("e", "e", "a", "b")).WithLabels("", "x").Set(1);
        Assert.Contains("aishell_e{b=\"x\"} 1\n", TestRegistries.Render(registry, ExpositionFormat.Text), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("bad-name")]
    [InlineData("0starts_with_digit")]
    [InlineData("__reserved")]
    [InlineData("")]
    public void InvalidLabelNames_AreRejectedAtRegistration(string label)
    {
        var registry = new MetricRegistry();
        Assert.Throws<ArgumentException>(() => registry.Register(MetricDescriptor.Gauge("x", "x", label)));
    }

    [Fact]
    public void HistogramLabelLe_IsReserved()
    {
        var registry = new MetricRegistry();
        Assert.Throws<ArgumentException>(() => registry.Register(MetricDescriptor.Histogram("x", "x", "query_duration", "le")));
    }
}
