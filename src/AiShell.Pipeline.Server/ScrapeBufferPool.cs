using AiShell.Pipeline.Metrics.Exposition;

namespace AiShell.Pipeline.Server;

/// <summary>
/// Buffers for concurrent scrapes. Each keeps the capacity it grew to, so a steady-state scrape
/// allocates nothing for serialization. Holds at most <c>capacity</c> idle buffers.
/// </summary>
internal sealed class ScrapeBufferPool
{
    private readonly Lock _gate = new();
    private readonly Stack<ScrapeBuffer> _idle;
    private readonly int _capacity;

    public ScrapeBufferPool(int capacity)
    {
        _capacity = capacity;
        _idle = new Stack<ScrapeBuffer>(capacity);
    }

    public ScrapeBuffer Rent()
    {
        lock (_gate)
        {
            if (_idle.TryPop(out ScrapeBuffer? buffer))
            {
                buffer.Reset();
                return buffer;
            }
        }

        return new ScrapeBuffer();
    }

    public void Return(ScrapeBuffer buffer)
    {
        lock (_gate)
        {
            if (_idle.Count < _capacity)
            {
                _idle.Push(buffer);
            }
        }
    }
}
