using AiShell.Pipeline.Tests.Shared;
using AiShell.Pipeline.Metrics.Flow;

namespace AiShell.Pipeline.Ingest.Tests;

[Collection(AloneCollection.Name)]
public sealed class EventIngestorTests
{
    private static List<IngestEvent> Queries(IngestHarness h, int count, string database = "app1")
    {
        var events = new List<IngestEvent>(count);
        for (int i = 0; i < count; i++)
        {
            IngestEvent e = IngestEvent.Query(database, i % 2 == 0 ? "select" : "UPDATE", i % 10 == 0 ? "error" : "success", 0.001 * (i % 2000), i % 10 == 0 ? "40001" : null);
            Assert.Null(h.Schema.Validate(ref e));
            events.Add(e);
        }

        return events;
    }

    [Fact]
    public void AcceptedEvents_AreCountedExactlyOnce_IntoEverySeedFamily()
    {
        var h = new IngestHarness();
        Assert.True(h.Ingestor.TryIngest(Queries(h, 1000), IngestSources.Http));
        h.Drain();
        Assert.Equal(400, h.Value("query_total", "app1", "SELECT", "success")); // even i are SELECT, i % 10 == 0 errors
        Assert.Equal(100, h.Value("query_total", "app1", "SELECT", "error"));
        Assert.Equal(500, h.Value("query_total", "app1", "UPDATE", "success"));
        Assert.Equal(500, h.HistogramCount("query_duration_seconds", "app1", "SELECT"));
        Assert.Equal(100, h.Value("query_errors_total", "app1", "SELECT", "40001"));
        // durations 0.001 * (i % 2000) for i < 1000: above 0.5 s are i = 501..999
        Assert.Equal(499, h.Value("slow_query_total", "app1", "0.5"));
        Assert.Equal(1000, h.Value("pipeline_events_received_total", "http"));
        Assert.False(h.Sources.StatementsCount("app1")); // events arrived: pg_stat_statements stops counting app1
    }

    [Fact]
    public void SlowAndErrorCounts_AreTheSame_TalliedOrOneSampleEach()
    {
        // Requests of 64 events or more are tallied, smaller ones append a sample per count: the
        // same 2,000 events either way, over three databases, both types and three error classes.
        string[] errors = ["40001", "40P01", "57014"];
        List<IngestEvent> Events(IngestHarness h)
        {
            var events = new List<IngestEvent>();
            for (int i = 0; i < 2000; i++)
            {
                bool failed = i % 7 == 0;
                IngestEvent e = IngestEvent.Query("db" + (i % 3), i % 2 == 0 ? "SELECT" : "UPDATE", failed ? "error" : "success", 0.0011 * (i % 1500), failed ? errors[i / 7 % 3] : null);
                Assert.Null(h.Schema.Validate(ref e));
                events.Add(e);
            }

            return events;
        }

        var tallied = new IngestHarness();
        Assert.True(tallied.Ingestor.TryIngest(Events(tallied), IngestSources.Http));
        tallied.Drain();
        var each = new IngestHarness();
        foreach (IngestEvent[] request in Events(each).Chunk(50))
        {
            Assert.True(each.Ingestor.TryIngest(request, IngestSources.Http));
        }

        each.Drain();
        double slow = 0, failures = 0;
        for (int db = 0; db < 3; db++)
        {
            string database = "db" + db;
            foreach (string threshold in new[] { "0.5", "1" })
            {
                Assert.Equal(each.Value("slow_query_total", database, threshold), tallied.Value("slow_query_total", database, threshold));
                slow += tallied.Value("slow_query_total", database, threshold);
            }

            foreach (string type in new[] { "SELECT", "UPDATE" })
            {
                foreach (string error in errors)
                {
                    double count = tallied.Value("query_errors_total", database, type, error);
                    Assert.Equal(each.Value("query_errors_total", database, type, error), count);
                    failures += double.IsNaN(count) ? 0 : count;
                }
            }
        }

        Assert.Equal(2000 / 7 + 1, failures); // i % 7 == 0 for i below 2,000
        Assert.True(slow > 1000, $"{slow} slow counts"); // durations up to 1.65 s past both thresholds
    }

    [Fact]
    public void SlowQueries_CountPerThreshold()
    {
        var h = new IngestHarness();
        var events = new List<IngestEvent>();
        foreach (double d in new[] { 0.1, 0.6, 0.9, 1.5 })
        {
            IngestEvent e = IngestEvent.Query("db", "SELECT", "success", d);
            Assert.Null(h.Schema.Validate(ref e));
            events.Add(e);
        }

        Assert.True(h.Ingestor.TryIngest(events, IngestSources.Http));
        h.Drain();
        Assert.Equal(3, h.Value("slow_query_total", "db", "0.5"));
        Assert.Equal(1, h.Value("slow_query_total", "db", "1"));
    }

    [Fact]
    public void WhenThePipelineIsFull_TheWholeBatchIsRefused_NothingCounted_AndARetryCountsItOnce()
    {
        // What one such request holds in flight (its tallied samples: the query counts, buckets,
        // slow and error counts per tuple), from a pipeline with room to spare; the budget then
        // fits two requests and half a third.
        var probe = new IngestHarness();
        Assert.True(probe.Ingestor.TryIngest(Queries(probe, 1000), IngestSources.Http));
        long perRequest = probe.Channels.Pending;
        Assert.InRange(perRequest, 1, 999); // tallied: fewer samples than events (one sample per count would be 3,599)

        var h = new IngestHarness(maxPending: (2 * perRequest) + (perRequest / 2));
        List<IngestEvent> first = Queries(h, 1000);
        List<IngestEvent> second = Queries(h, 1000);
        List<IngestEvent> third = Queries(h, 1000);
        Assert.True(h.Ingestor.TryIngest(first, IngestSources.Http));
        Assert.True(h.Ingestor.TryIngest(second, IngestSources.Http));
        Assert.False(h.Ingestor.TryIngest(third, IngestSources.Http)); // over budget: refused whole
        long pending = h.Channels.Pending;
        Assert.Equal(2 * perRequest, pending);

        h.Drain();
        Assert.Equal(2000, h.Value("query_total", "app1", "SELECT", "success") + h.Value("query_total", "app1", "SELECT", "error")
            + h.Value("query_total", "app1", "UPDATE", "success"));
        Assert.Equal(0, h.Channels.Pending);

        Assert.True(h.Ingestor.TryIngest(third, IngestSources.Http)); // the retry
        h.Drain();
        Assert.Equal(3000, h.Value("pipeline_events_received_total", "http"));
        Assert.Equal(1500, h.HistogramCount("query_duration_seconds", "app1", "SELECT"));
    }

    [Fact]
    public void LabelLimit_FoldsExtraSetsIntoTheOverflowSeries_AndCountsThem()
    {
        var h = new IngestHarness(limit: 10);
        var events = new List<IngestEvent>();
        for (int i = 0; i < 100; i++)
        {
            var e = new IngestEvent { Kind = EventKind.Feature, Feature = "f" + i };
            Assert.Null(h.Schema.Validate(ref e));
            events.Add(e);
        }

        Assert.True(h.Ingestor.TryIngest(events, IngestSources.Http));
        h.Drain();
        Assert.Equal(90, h.Value("feature_usage_total", Metrics.MetricFamily.OverflowValue));
        Assert.Equal(90, h.Value("pipeline_series_overflow_total", "aishell_feature_usage_total"));
        Assert.Equal(1, h.Value("feature_usage_total", "f0"));
    }

    [Fact]
    public void DropLabels_RemovesANamedLabelBeforeFolding()
    {
        var h = new IngestHarness(drop: ["status"]);
        var events = new List<IngestEvent>();
        foreach (string status in new[] { "ok", "failed", "ok" })
        {
            var e = new IngestEvent { Kind = EventKind.Custom, Name = "business_transactions", Labels = [new("type", "card"), new("status", status)], Value = 2 };
            Assert.Null(h.Schema.Validate(ref e));
            events.Add(e);
        }

        Assert.True(h.Ingestor.TryIngest(events, IngestSources.Http));
        h.Drain();
        Assert.Equal(6, h.Value("business_transactions_total", "card", "any status: the label is dropped"));
        Assert.Equal(["type"], h.Registry.Find("aishell_business_transactions_total")!.LabelNames);
    }

    [Fact]
    public async Task Recorder_FromManyThreads_LosesNothing_EvenThroughAFullPipeline()
    {
        var h = new IngestHarness(maxPending: 5_000);
        using var drainer = new CancellationTokenSource();
        // A dedicated thread, like the aggregators' pinned dispatcher: recording threads that wait
        // for room may occupy the thread pool.
        var drain = new Thread(() =>
        {
            while (!drainer.IsCancellationRequested)
            {
                h.Drain();
                Thread.Sleep(1);
            }
        });
        drain.Start();

        using (var recorder = new EventRecorder(h.Ingestor))
        {
            Task recording = Task.Run(() => Parallel.For(0, 4, t =>
            {
                for (int i = 0; i < 25_000; i++)
                {
                    Assert.Null(recorder.Query("db" + (t % 2), "SELECT", "success", 0.002));
                }
            }));
            await recording.WaitAsync(TimeSpan.FromSeconds(60)); // a hang fails here instead of stalling the run
        }

        await drainer.CancelAsync();
        drain.Join();
        h.Drain();
        Assert.Equal(100_000, h.Value("query_total", "db0", "SELECT", "success") + h.Value("query_total", "db1", "SELECT", "success"));
        Assert.Equal(100_000, h.Value("pipeline_events_received_total", "inprocess"));
    }

    [Fact]
    public void Recorder_RejectsInvalidEvents_WithAReason()
    {
        var h = new IngestHarness();
        using var recorder = new EventRecorder(h.Ingestor);
        Assert.Equal("database is required", recorder.Query("", "SELECT", "success", 1));
        Assert.Contains("not declared", recorder.Custom("undeclared", [], 1), StringComparison.Ordinal);
        Assert.Equal(2, h.Value("pipeline_events_rejected_total", "inprocess", "invalid"));
    }

    [Fact]
    public void RecordAll_FoldsTheValidEvents_CountsTheInvalidOnes_AndNormalisesInPlace()
    {
        var h = new IngestHarness();
        using var recorder = new EventRecorder(h.Ingestor);
        IngestEvent[] events =
        [
            IngestEvent.Query("app", "select", "SUCCESS", 0.01),
            IngestEvent.Query("", "SELECT", "success", 0.01),
            IngestEvent.Query("app", "INSERT", "error", 0.2, "23505"),
            IngestEvent.Query("app", "SELECT", "nonsense", 0.01),
        ];
        Assert.Equal(2, recorder.RecordAll(events));
        recorder.FlushAll();
        h.Drain();
        Assert.Equal("SELECT", events[0].Type);
        Assert.Equal("success", events[0].Status);
        Assert.Equal(1, h.Value("query_total", "app", "SELECT", "success"));
        Assert.Equal(1, h.Value("query_total", "app", "INSERT", "error"));
        Assert.Equal(2, h.Value("pipeline_events_rejected_total", "inprocess", "invalid"));
        Assert.Equal(2, h.Value("pipeline_events_received_total", "inprocess"));
    }
}
