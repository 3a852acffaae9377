using System.Threading.Channels;
using Akka.Actor;
using AiShell.Pipeline.Metrics;
using AiShell.Pipeline.Metrics.Pipeline;

namespace AiShell.Pipeline.Actors;

/// <summary>
/// Owns one shard: the only writer of the series whose <c>Ordinal % shards</c> is its index. It
/// drains its channel with a <c>TryRead</c> loop and, when the channel is empty, waits with
/// <c>WaitToReadAsync</c> piped back to itself, so its mailbox sees one message per wake-up, not per batch.
/// </summary>
internal sealed class AggregatorActor : UntypedActor
{
    private const int BatchesPerTurn = 256; // then yield, so other actors on the dispatcher get a turn

    private readonly ShardChannels _channels;
    private readonly ChannelReader<SampleBatch> _reader;
    private readonly PipelineStatus _status;
    private readonly Series _samplesFolded;
    private readonly Series _batchesFolded;
    private readonly TaskCompletionSource _drained;

    public AggregatorActor(ShardChannels channels, int shard, PipelineStatus status, Series samplesFolded,
        Series batchesFolded, TaskCompletionSource drained)
    {
        _channels = channels;
        _reader = channels.Reader(shard);
        _status = status;
        _samplesFolded = samplesFolded;
        _batchesFolded = batchesFolded;
        _drained = drained;
    }

    protected override void PreStart() => Self.Tell(AggregatorMessages.Drain.Instance);

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case AggregatorMessages.Drain:
                DrainAvailable();
                break;
            case AggregatorMessages.ChannelClosed:
                _drained.TrySetResult();
                Context.Stop(Self);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void DrainAvailable()
    {
        int batches = 0;
        long samples = 0;
        while (batches < BatchesPerTurn && _reader.TryRead(out SampleBatch? batch))
        {
            try
            {
                samples += batch.Count;
                batch.Fold();
                batches++;
                _status.MarkFolded(batch.Source);
            }
            finally
            {
                batch.Release();
            }
        }

        if (batches > 0)
        {
            _channels.Release(samples);
            _samplesFolded.Add(samples);
            _batchesFolded.Add(batches);
        }

        if (batches == BatchesPerTurn)
        {
            Self.Tell(AggregatorMessages.Drain.Instance);
            return;
        }

        ValueTask<bool> wait = _reader.WaitToReadAsync();
        if (wait.IsCompletedSuccessfully)
        {
            Self.Tell(wait.Result ? AggregatorMessages.Drain.Instance : AggregatorMessages.ChannelClosed.Instance);
            return;
        }

        wait.AsTask().PipeTo(Self,
            success: more => more ? AggregatorMessages.Drain.Instance : AggregatorMessages.ChannelClosed.Instance,
            failure: _ => AggregatorMessages.ChannelClosed.Instance);
    }
}
