namespace AiShell.Pipeline.Actors;

internal static class AggregatorMessages
{
    /// <summary>Read and fold what the shard's channel holds.</summary>
    public sealed record Drain
    {
        public static readonly Drain Instance = new();

        private Drain()
        {
        }
    }

    /// <summary>The channel was completed and is empty: the aggregator is done.</summary>
    public sealed record ChannelClosed
    {
        public static readonly ChannelClosed Instance = new();

        private ChannelClosed()
        {
        }
    }
}
