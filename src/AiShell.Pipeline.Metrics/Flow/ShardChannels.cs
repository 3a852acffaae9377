using System.Threading.Channels;

namespace AiShell.Pipeline.Metrics.Flow;

/// <summary>
/// One channel of <see cref="SampleBatch"/> per aggregator shard, bounded by a budget of samples in
/// flight (admitted but not yet folded) rather than by a count of batches. Items are batches, never
/// single samples: each channel operation takes a lock, so its cost is paid once per batch.
/// <para>
/// What happens when the budget is spent is each producer's named choice:
/// collectors <b>wait</b> (<see cref="WriteAsync"/>: readings are absolute, a late one loses nothing),
/// HTTP ingest <b>rejects the whole request</b> with 429 (<see cref="TryWriteAll"/>: all or nothing,
/// so an accepted batch is counted exactly once and a rejected one not at all), UDP ingest <b>drops
/// and counts</b>. Admission is one atomic add, so a request's batches for different shards are
/// admitted together, which bounded channels per shard cannot do.
/// </para>
/// </summary>
public sealed class ShardChannels : ISampleSink
{
    private readonly Channel<SampleBatch>[] _channels;
    private readonly long _maxPending;
    private readonly long _roomAgain; // half the budget: blocked producers wake when pending falls to it
    private readonly int[] _idle;
    // Completed when an aggregator's release brings pending down to _roomAgain; a waiter that finds
    // it completed arms a fresh one. The one wait for room, for blocking and async producers alike.
    private TaskCompletionSource _room = Armed(completed: true);
    private long _pending;

    /// <summary>How long a waiting collector trusts the wake-up before it looks at pending again.</summary>
    private static readonly TimeSpan RecheckAfter = TimeSpan.FromMilliseconds(100);

    public ShardChannels(int shards, long maxPendingSamples)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shards, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPendingSamples, 1);
        _maxPending = maxPendingSamples;
        _roomAgain = maxPendingSamples / 2;
        _idle = new int[shards];
        _channels = new Channel<SampleBatch>[shards];
        for (int i = 0; i < shards; i++)
        {
            _channels[i] = Channel.CreateUnbounded<SampleBatch>(new UnboundedChannelOptions
            {
                SingleReader = true,
                SingleWriter = false,
                AllowSynchronousContinuations = false,
            });
        }
    }

    public int Count => _channels.Length;

    /// <summary>
    /// Called with a shard's index when a batch arrives for an idle aggregator (or on completion).
    /// Wake-ups come from the producer's thread, so an aggregator never depends on a thread-pool
    /// continuation to notice work: in-process producers that wait for room may occupy the pool.
    /// </summary>
    public Action<int>? Wake { get; set; }

    /// <summary>The aggregator found its channel empty and waits for a wake-up.</summary>
    public void MarkIdle(int shard) => Interlocked.Exchange(ref _idle[shard], 1);

    /// <summary>True for the one caller that takes the shard out of idle (and so must wake it).</summary>
    public bool TryClearIdle(int shard) => Interlocked.Exchange(ref _idle[shard], 0) == 1;

    /// <summary>
    /// After a batch is queued: wakes the shard's aggregator if it went idle. One interlocked
    /// exchange (a full fence), never a plain read of the flag first: the queued batch (a store)
    /// and the read of the flag (a load) must not be reordered, or this producer and the
    /// aggregator, which marks itself idle and then looks at its channel, could each miss the
    /// other. A plain read relied on the channel's lock release being a fence; this costs one
    /// interlocked operation per batch (a shard's array of up to 256 samples from a streaming producer).
    /// </summary>
    private void Signal(int shard)
    {
        if (TryClearIdle(shard))
        {
            Wake?.Invoke(shard);
        }
    }

    int ISampleSink.Shards => _channels.Length;

    /// <summary>Samples admitted and not yet folded.</summary>
    public long Pending => Interlocked.Read(ref _pending);

    public long Capacity => _maxPending;

    public ChannelReader<SampleBatch> Reader(int shard) => _channels[shard].Reader;

    /// <summary>Reserves room for <paramref name="samples"/>; a request larger than the whole budget is admitted only into an empty pipeline.</summary>
    public bool TryAdmit(long samples)
    {
        long after = Interlocked.Add(ref _pending, samples);
        if (after <= _maxPending || after == samples)
        {
            return true;
        }

        Interlocked.Add(ref _pending, -samples);
        return false;
    }

    /// <summary>Called by an aggregator once it has folded <paramref name="samples"/>.</summary>
    public void Release(long samples)
    {
        long after = Interlocked.Add(ref _pending, -samples);
        if (after <= _roomAgain)
        {
            Volatile.Read(ref _room).TrySetResult(); // wakes every waiting producer; a no-op when none waits
        }
    }

    public bool WaitForRoom(TimeSpan timeout)
    {
        if (Pending <= _roomAgain)
        {
            return true;
        }

        Task room = ArmRoom();
        // Released between the check and the arming: look again so that no wake-up is lost.
        return Pending <= _roomAgain || room.Wait(timeout);
    }

    /// <summary>
    /// Collector path: waits until the batch is admitted, then queues it. The wait is the one
    /// <see cref="WaitForRoom"/> uses, awaited: woken by the release that makes room, not polled.
    /// </summary>
    public async ValueTask WriteAsync(SampleBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        while (!TryAdmit(batch.Count))
        {
            Task room = ArmRoom();
            // Admitted since the first try (pending fell to nothing and no release will come again):
            // the arming is a full fence, so this second try sees every release before it.
            if (TryAdmit(batch.Count))
            {
                break;
            }

            try
            {
                await room.WaitAsync(RecheckAfter, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // A release can miss its wake-up while another producer's failed admission has
                // pending inflated for an instant; looking again now and then covers that.
            }
        }

        if (!_channels[batch.Shard].Writer.TryWrite(batch))
        {
            Release(batch.Count);
            throw new ChannelClosedException("the pipeline is stopping");
        }

        Signal(batch.Shard);
    }

    /// <summary>The task the next room-making release completes (a fresh one when the last was used up).</summary>
    private Task ArmRoom()
    {
        TaskCompletionSource current = Volatile.Read(ref _room);
        if (current.Task.IsCompleted)
        {
            TaskCompletionSource fresh = Armed(completed: false);
            current = Interlocked.CompareExchange(ref _room, fresh, current) == current ? fresh : Volatile.Read(ref _room);
        }

        return current.Task;
    }

    private static TaskCompletionSource Armed(bool completed)
    {
        // Continuations run on the pool, never inside an aggregator's Release.
        var room = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (completed)
        {
            room.SetResult();
        }

        return room;
    }

    /// <summary>
    /// All-or-nothing: admits the batches' samples together and queues every batch, or admits none
    /// and returns false (the caller still owns the batches).
    /// </summary>
    public bool TryWriteAll(IReadOnlyList<SampleBatch> batches)
    {
        ArgumentNullException.ThrowIfNull(batches);
        long total = 0;
        for (int i = 0; i < batches.Count; i++) // by index: foreach over the interface boxes an enumerator
        {
            total += batches[i].Count;
        }

        if (!TryAdmit(total))
        {
            return false;
        }

        for (int i = 0; i < batches.Count; i++)
        {
            SampleBatch batch = batches[i];
            if (!_channels[batch.Shard].Writer.TryWrite(batch))
            {
                // Only after Complete(): the pipeline is stopping and this batch will not be folded.
                Release(batch.Count);
                batch.Release();
                continue;
            }

            Signal(batch.Shard);
        }

        return true;
    }

    /// <summary>No more batches: aggregators fold what is queued and then stop.</summary>
    public void Complete()
    {
        for (int shard = 0; shard < _channels.Length; shard++)
        {
            _channels[shard].Writer.TryComplete();
            if (TryClearIdle(shard))
            {
                Wake?.Invoke(shard);
            }
        }
    }
}
