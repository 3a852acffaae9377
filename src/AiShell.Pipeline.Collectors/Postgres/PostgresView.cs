using AiShell.Pipeline.Metrics;
using AiShell.Pipeline.Metrics.Flow;

namespace AiShell.Pipeline.Collectors.Postgres;

/// <summary>
/// One PostgreSQL view (or a few closely related): the families it writes, its SQL, and how rows
/// become samples. A view that fails while the connection stays up is counted and the others run on.
/// </summary>
internal abstract class PostgresView
{
    /// <summary>The <c>collector</c> label of this view's self-metrics (<c>pg_stat_database</c>, ...).</summary>
    public abstract string Name { get; }

    /// <summary>The <c>prometheus.metrics.*</c> group whose switch runs this view; null: always runs (SQL-defined metrics).</summary>
    public virtual MetricGroup? Group => null;

    public abstract void Register(MetricRegistry registry, string database);

    public abstract Task ScrapeAsync(PgScrape scrape);
}
