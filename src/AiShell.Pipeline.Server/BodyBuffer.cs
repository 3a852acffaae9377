using System.Buffers;

namespace AiShell.Pipeline.Server;

/// <summary>
/// An event body copied out of Kestrel's pipe as it arrives, in 64 KiB pieces rented from the shared
/// pool (small-object heap, never the large-object heap), read back as one sequence. Consuming the
/// pipe at once is what lets the transport buffer stay small (<see cref="ExporterServer.TransportReadBufferBytes"/>):
/// a body left in the pipe until complete needs a transport buffer as large as the body.
/// </summary>
internal sealed class BodyBuffer : IDisposable
{
    private const int PieceBytes = 64 * 1024;
    private readonly List<byte[]> _pieces = [];
    private int _lastUsed = PieceBytes;

    public long Length { get; private set; }

    public void Append(ReadOnlySequence<byte> data)
    {
        foreach (ReadOnlyMemory<byte> memory in data)
        {
            ReadOnlySpan<byte> span = memory.Span;
            while (!span.IsEmpty)
            {
                if (_lastUsed == PieceBytes)
                {
                    _pieces.Add(ArrayPool<byte>.Shared.Rent(PieceBytes));
                    _lastUsed = 0;
                }

                int n = Math.Min(span.Length, PieceBytes - _lastUsed);
                span[..n].CopyTo(_pieces[^1].AsSpan(_lastUsed));
                _lastUsed += n;
                span = span[n..];
                Length += n;
            }
        }
    }

    /// <summary>The body as one sequence over the pieces (valid until disposed).</summary>
    public ReadOnlySequence<byte> AsSequence()
    {
        if (_pieces.Count == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        if (_pieces.Count == 1)
        {
            return new ReadOnlySequence<byte>(_pieces[0], 0, _lastUsed);
        }

        var first = new Piece(_pieces[0].AsMemory(0, PieceBytes), 0);
        Piece last = first;
        for (int i = 1; i < _pieces.Count; i++)
        {
            last = last.Append(_pieces[i].AsMemory(0, i == _pieces.Count - 1 ? _lastUsed : PieceBytes));
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// <summary>Counts the line feeds: the events list is sized once instead of doubling (each doubling left its old array as garbage).</summary>
    public int CountLines()
    {
        int lines = 0;
        for (int i = 0; i < _pieces.Count; i++)
        {
            lines += _pieces[i].AsSpan(0, i == _pieces.Count - 1 ? _lastUsed : PieceBytes).Count((byte)'\n');
        }

        return lines + 1;
    }

    public void Dispose()
    {
        foreach (byte[] piece in _pieces)
        {
            ArrayPool<byte>.Shared.Return(piece);
        }

        _pieces.Clear();
        Length = 0;
        _lastUsed = PieceBytes;
    }

    private sealed class Piece : ReadOnlySequenceSegment<byte>
    {
        public Piece(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Piece Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Piece(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
