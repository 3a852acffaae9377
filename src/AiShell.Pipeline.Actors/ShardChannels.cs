using System.Threading.Channels;
using AiShell.Pipeline.Metrics.Pipeline;

namespace AiShell.Pipeline.Actors;

/// <summary>
/// One bounded channel of <see cref="SampleBatch"/> per aggregator shard. Items are batches, never
/// single samples: each channel operation takes a lock, so its cost is paid once per batch.
/// Full mode: <see cref="BoundedChannelFullMode.Wait"/> (see <see cref="PipelineOptions.ChannelCapacity"/>).
/// </summary>
public sealed class ShardChannels
{
    private readonly Channel<SampleBatch>[] _channels;

    public ShardChannels(int shards, int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shards, 1);
        _channels = new Channel<SampleBatch>[shards];
        for (int i = 0; i < shards; i++)
        {
            _channels[i] = Channel.CreateBounded<SampleBatch>(new BoundedChannelOptions(capacity)
            {
                FullMode = BoundedChannelFullMode.Wait,
                SingleReader = true,
                SingleWriter = false,
                AllowSynchronousContinuations = false,
            });
        }
    }

    public int Count => _channels.Length;

    public ChannelReader<SampleBatch> Reader(int shard) => _channels[shard].Reader;

    /// <summary>Batches waiting in a shard's channel.</summary>
    public int Depth(int shard) => _channels[shard].Reader.Count;

    /// <summary>Fast path <c>TryWrite</c>; a full channel makes the caller wait for room.</summary>
    public ValueTask WriteAsync(SampleBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ChannelWriter<SampleBatch> writer = _channels[batch.Shard].Writer;
        return writer.TryWrite(batch) ? ValueTask.CompletedTask : writer.WriteAsync(batch, cancellationToken);
    }

    /// <summary>Non-blocking write; false when the shard's channel is full or closed.</summary>
    public bool TryWrite(SampleBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return _channels[batch.Shard].Writer.TryWrite(batch);
    }

    /// <summary>No more batches: aggregators fold what is queued and then stop.</summary>
    public void Complete()
    {
        foreach (Channel<SampleBatch> channel in _channels)
        {
            channel.Writer.TryComplete();
        }
    }
}
