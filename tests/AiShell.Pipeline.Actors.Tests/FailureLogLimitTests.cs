namespace AiShell.Pipeline.Actors.Tests;

public sealed class FailureLogLimitTests
{
    private const string Refused = "cannot connect (connection_refused)";

    [Fact]
    public void RepeatsOfTheSameFailure_AreHeld_AndTheNextLineCountsThem()
    {
        var limit = new FailureLogLimit();
        long t = 1_000_000;

        Assert.Equal($"collector postgres/a failed (1 in a row): {Refused}", limit.Line("postgres/a", Refused, 1, t));
        for (int run = 2; run <= 12; run++)
        {
            Assert.Null(limit.Line("postgres/a", Refused, run, t + (run * 5_000L) - 5_000)); // every 5 s for 55 s
        }

        Assert.Equal($"collector postgres/a failed (13 in a row): {Refused} (and 11 more like it in the last minute)",
            limit.Line("postgres/a", Refused, 13, t + 60_000));
        Assert.Null(limit.Line("postgres/a", Refused, 14, t + 65_000));
    }

    [Fact]
    public void ADifferentReason_OrAnotherCollector_IsLoggedAtOnce()
    {
        var limit = new FailureLogLimit();
        Assert.NotNull(limit.Line("postgres/a", Refused, 1, 0));
        Assert.NotNull(limit.Line("postgres/b", Refused, 1, 1));
        Assert.NotNull(limit.Line("postgres/a", "collection took longer than 5s", 2, 2));
        Assert.Null(limit.Line("postgres/a", Refused, 3, 3));
    }

    [Fact]
    public void ANewRunOfFailures_AfterARecovery_IsLoggedAtOnce_WithoutTheOldCount()
    {
        var limit = new FailureLogLimit();
        Assert.NotNull(limit.Line("postgres/a", Refused, 1, 0));
        Assert.Null(limit.Line("postgres/a", Refused, 2, 5_000));
        Assert.Equal($"collector postgres/a failed (1 in a row): {Refused}", limit.Line("postgres/a", Refused, 1, 10_000));
    }
}
