using AiShell.Pipeline.Metrics;
using Npgsql;

namespace AiShell.Pipeline.Collectors.Postgres;

/// <summary>
/// SQL-defined metrics (<c>custom_metrics</c> entries with <c>query:</c>): each run executes the query
/// under the statement timeout, maps the declared label columns to labels and the <c>value</c> column
/// to the sample. Rows whose value is NULL emit nothing; series whose row disappeared are cleared.
/// </summary>
internal sealed class SqlMetricsView(SqlMetric metric) : PostgresView
{
    private readonly SeriesTracker _series = new();
    private MetricFamily _family = null!;
    private string _database = "";

    public override string Name => "sql:" + metric.Descriptor.Name;

    public override void Register(MetricRegistry registry, string database)
    {
        _database = database;
        _family = registry.Register(metric.Descriptor);
    }

    public override async Task ScrapeAsync(PgScrape scrape)
    {
        int[]? labelOrdinals = null;
        int valueOrdinal = -1;
        var values = new string[metric.LabelColumns.Count + 1];
        values[0] = _database;
        await scrape.QueryAsync(metric.Query, row =>
        {
            if (labelOrdinals is null)
            {
                (labelOrdinals, valueOrdinal) = Resolve(row);
            }

            if (PgScrape.Double(row, valueOrdinal) is not { } value)
            {
                return;
            }

            for (int i = 0; i < labelOrdinals.Length; i++)
            {
                values[i + 1] = row.IsDBNull(labelOrdinals[i]) ? "" : Convert.ToString(row.GetValue(labelOrdinals[i]), System.Globalization.CultureInfo.InvariantCulture) ?? "";
            }

            _series.Set(scrape.Batch, _family.WithLabels(values), value);
        });
        _series.Finish(scrape.Batch);
    }

    private (int[] Labels, int Value) Resolve(NpgsqlDataReader row)
    {
        var labels = new int[metric.LabelColumns.Count];
        for (int i = 0; i < labels.Length; i++)
        {
            labels[i] = Ordinal(row, metric.LabelColumns[i]);
        }

        return (labels, Ordinal(row, "value"));
    }

    private int Ordinal(NpgsqlDataReader row, string column)
    {
        for (int i = 0; i < row.FieldCount; i++)
        {
            if (string.Equals(row.GetName(i), column, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        throw new SqlMetricException($"custom metric '{metric.Descriptor.Name}': the query returns no column '{column}'");
    }
}

/// <summary>A SQL-defined metric's query does not return the columns its declaration names.</summary>
public sealed class SqlMetricException(string message) : Exception(message)
{
    public SqlMetricException()
        : this("SQL metric query does not match its declaration")
    {
    }

    public SqlMetricException(string message, Exception inner)
        : this(message + ": " + inner.Message)
    {
    }
}
