using AiShell.Pipeline.Collectors.Postgres;

namespace AiShell.Pipeline.Collectors.Tests;

public sealed class StatementTypeTests
{
    [Theory]
    [InlineData("SELECT 1", "SELECT")]
    [InlineData("  select * from t", "SELECT")]
    [InlineData("-- comment\n/* block */ INSERT INTO t VALUES (1)", "INSERT")]
    [InlineData("(SELECT 1) UNION (SELECT 2)", "SELECT")]
    [InlineData("update t set a = 1", "UPDATE")]
    [InlineData("DELETE FROM t", "DELETE")]
    [InlineData("WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x", "INSERT")]
    [InlineData("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT * FROM r", "SELECT")]
    [InlineData("with d as (delete from t returning *) select count(*) from d", "SELECT")]
    [InlineData("VALUES (1), (2)", "SELECT")]
    [InlineData("CREATE TABLE t (a int)", "OTHER")]
    [InlineData("BEGIN", "OTHER")]
    [InlineData("", "OTHER")]
    [InlineData("'unterminated", "OTHER")]
    public void Classify_TakesTheStatementsOwnKeyword(string sql, string expected) =>
        Assert.Equal(expected, StatementType.Classify(sql));

    [Theory]
    [InlineData("disc_*", "disc_alpha", true)]
    [InlineData("*beta", "disc_beta", true)]
    [InlineData("a*b*c", "axxbyyc", true)]
    [InlineData("a*b*c", "acb", false)]
    [InlineData("exact", "exact", true)]
    [InlineData("exact", "exactly", false)]
    public void DiscoveryPatterns_UseStarWildcards(string pattern, string name, bool matches) =>
        Assert.Equal(matches, PostgresDiscovery.Matches(pattern, name));

    [Fact]
    public void CacheHitRatio_UsesTheIntervalWhenBlocksWereAccessed()
    {
        Assert.Equal(0.9, StatDatabaseView.CacheHitRatio(null, 90, 10));
        Assert.Equal(0.5, StatDatabaseView.CacheHitRatio((90, 10), 100, 20));
        Assert.Null(StatDatabaseView.CacheHitRatio((90, 10), 90, 10)); // no access this interval: keep the last value
        Assert.Null(StatDatabaseView.CacheHitRatio(null, 0, 0));
        Assert.Equal(0.75, StatDatabaseView.CacheHitRatio((500, 500), 3, 1)); // counters reset: since the reset
    }
}
