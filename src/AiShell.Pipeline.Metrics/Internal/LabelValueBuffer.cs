using System.Runtime.CompilerServices;

namespace AiShell.Pipeline.Metrics.Internal;

/// <summary>Room on the stack for a few label values, so projecting a label set allocates nothing.</summary>
[InlineArray(Length)]
internal struct LabelValueBuffer
{
    public const int Length = 8;
    private string _first;
}
