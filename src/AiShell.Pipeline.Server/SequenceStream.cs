using System.Buffers;

namespace AiShell.Pipeline.Server;

/// <summary>A read-only stream over a <see cref="ReadOnlySequence{T}"/> (a buffered body), without copying it.</summary>
internal sealed class SequenceStream(ReadOnlySequence<byte> sequence) : Stream
{
    private readonly long _length = sequence.Length;
    private ReadOnlySequence<byte> _rest = sequence;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => _length;

    public override long Position
    {
        get => _length - _rest.Length;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n = (int)Math.Min(buffer.Length, _rest.Length);
        _rest.Slice(0, n).CopyTo(buffer);
        _rest = _rest.Slice(n);
        return n;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => new(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
