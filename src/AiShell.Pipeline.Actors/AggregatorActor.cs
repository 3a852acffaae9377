using System.Threading.Channels;
using Akka.Actor;
using AiShell.Pipeline.Metrics;
using AiShell.Pipeline.Metrics.Flow;

namespace AiShell.Pipeline.Actors;

/// <summary>
/// Owns one shard: the only writer of the series whose <c>Ordinal % shards</c> is its index. It
/// drains its channel with a <c>TryRead</c> loop and, when the channel is empty, marks itself idle;
/// the next producer that writes to the shard sends it one Drain message. So its mailbox sees one
/// message per wake-up, not per batch, and no wake-up waits for a thread-pool thread. Runs on a
/// pinned (dedicated-thread) dispatcher for the same reason.
/// </summary>
internal sealed class AggregatorActor : UntypedActor
{
    private const int BatchesPerTurn = 256; // then yield, so other actors on the dispatcher get a turn

    private readonly ShardChannels _channels;
    private readonly int _shard;
    private readonly ChannelReader<SampleBatch> _reader;
    private readonly PipelineStatus _status;
    private readonly Series _samplesFolded;
    private readonly Series _batchesFolded;
    private readonly Series _pending;
    private readonly TaskCompletionSource _started;
    private readonly TaskCompletionSource _drained;

    public AggregatorActor(ShardChannels channels, int shard, PipelineStatus status, Series samplesFolded,
        Series batchesFolded, Series pending, TaskCompletionSource started, TaskCompletionSource drained)
    {
        _started = started;
        _pending = pending;
        _channels = channels;
        _shard = shard;
        _reader = channels.Reader(shard);
        _status = status;
        _samplesFolded = samplesFolded;
        _batchesFolded = batchesFolded;
        _drained = drained;
    }

    protected override void PreStart()
    {
        _started.TrySetResult();
        Self.Tell(AggregatorMessages.Drain.Instance);
    }

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
            _pending.Set(_channels.Pending);
            _samplesFolded.Add(samples);
            _batchesFolded.Add(batches);
        }

        if (batches == BatchesPerTurn)
        {
            Self.Tell(AggregatorMessages.Drain.Instance);
            return;
        }

        if (_reader.Completion.IsCompleted)
        {
            Self.Tell(AggregatorMessages.ChannelClosed.Instance);
            return;
        }

        // Idle, then look once more: a batch written between the last TryRead and MarkIdle saw the
        // shard busy and sent no wake-up, so this check must catch it.
        _channels.MarkIdle(_shard);
        if ((_reader.TryPeek(out _) || _reader.Completion.IsCompleted) && _channels.TryClearIdle(_shard))
        {
            Self.Tell(AggregatorMessages.Drain.Instance);
        }
    }
}
