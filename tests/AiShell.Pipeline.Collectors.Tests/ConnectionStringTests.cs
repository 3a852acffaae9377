using AiShell.Pipeline.Collectors.Postgres;

namespace AiShell.Pipeline.Collectors.Tests;

/// <summary>Connection string problems in plain words, never repeating a value (it may be a password).</summary>
public sealed class ConnectionStringTests
{
    [Theory]
    [InlineData("Host=db;Port=5432;Username=u;Database=app")]
    [InlineData("host=db; database=app; ssl mode=require")]
    [InlineData("Host=db;Password=\"pa;ss\"")]
    public void Usable_HasNoProblem(string connectionString) =>
        Assert.Null(PostgresDataSource.ConnectionStringProblem(connectionString));

    [Theory]
    [InlineData("Host=db;Port", "not a list of KEY=VALUE pairs separated by ';' near character")]
    [InlineData("Hots=db;Database=app", "'hots' is not a PostgreSQL connection setting")]
    [InlineData("Host=db;Port=s3cr3t", "the value of 'port' is not of the kind it takes")]
    [InlineData("Host=db;SSL Mode=s3cr3t", "the value of 'ssl mode' is not of the kind it takes")]
    public void Broken_SaysWhy_WithoutTheValue(string connectionString, string reason)
    {
        string? problem = PostgresDataSource.ConnectionStringProblem(connectionString);
        Assert.NotNull(problem);
        Assert.Contains(reason, problem, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr3t", problem, StringComparison.Ordinal);
        Assert.DoesNotContain("ADP_", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryBadValue_IsNamed()
    {
        string? problem = PostgresDataSource.ConnectionStringProblem("Host=db;SSL Mode=maybe;Timeout=-x;Pooling=SECRETBOOL");
        Assert.NotNull(problem);
        Assert.Contains("'ssl mode'", problem, StringComparison.Ordinal);
        Assert.Contains("'timeout'", problem, StringComparison.Ordinal);
        Assert.Contains("'pooling'", problem, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRETBOOL", problem, StringComparison.Ordinal);
    }
}
