using System.Globalization;
using System.Text;
using AiShell.Pipeline.Metrics.Exposition;

namespace AiShell.Pipeline.Metrics.Tests;

public sealed class LineWriterTests
{
    public static TheoryData<long> Integers()
    {
        // The loop covers 9, 10, 11, 99, 100, ... and -10, -100, ...; xunit skips duplicate rows.
        var data = new TheoryData<long> { 0, long.MaxValue, long.MinValue, long.MinValue + 1, -1, -9 };
        for (long power = 10; power <= 1_000_000_000_000_000_000; power *= 10)
        {
            data.Add(power - 1);
            data.Add(power);
            data.Add(power + 1);
            data.Add(-power);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Integers))]
    public void WriteInteger_WritesTheDecimalText_AtEveryDigitCountBoundary(long value)
    {
        byte[] into = new byte[LineWriter.MaxIntegerLength + LineWriter.Slack];
        int written = LineWriter.WriteInteger(ref into[0], value);

        Assert.Equal(value.ToString(CultureInfo.InvariantCulture), Encoding.ASCII.GetString(into, 0, written));
    }

    [Fact]
    public void WriteInteger_AgreesWithToString_OnRandomValuesOfEveryMagnitude()
    {
        var random = new Random(12345);
        byte[] into = new byte[LineWriter.MaxIntegerLength + LineWriter.Slack];
        for (int i = 0; i < 20_000; i++)
        {
            long value = random.NextInt64() >> random.Next(0, 63);
            value = (i & 1) == 0 ? value : -value;
            int written = LineWriter.WriteInteger(ref into[0], value);
            Assert.Equal(value.ToString(CultureInfo.InvariantCulture), Encoding.ASCII.GetString(into, 0, written));
        }
    }

    [Fact]
    public void Copy_MovesExactlyTheBytesAsked_ForEveryLength()
    {
        byte[] source = new byte[300 + LineWriter.Slack];
        new Random(7).NextBytes(source);
        for (int length = 0; length <= 300; length++)
        {
            byte[] destination = new byte[length + 1 + LineWriter.Slack];
            Assert.Equal(length, LineWriter.Copy(ref destination[0], source, 0, length));
            Assert.Equal(source.AsSpan(0, length).ToArray(), destination.AsSpan(0, length).ToArray());
        }
    }

    [Fact]
    public void CopyBlock_MovesAtLeastTheLengthAsked_UpToAWholeBlock()
    {
        byte[] source = new byte[LineWriter.Block];
        new Random(8).NextBytes(source);
        for (int length = 0; length <= LineWriter.Block; length++)
        {
            byte[] destination = new byte[LineWriter.Block];
            LineWriter.CopyBlock(ref destination[0], ref source[0], length);
            Assert.Equal(source.AsSpan(0, length).ToArray(), destination.AsSpan(0, length).ToArray());
        }
    }
}
