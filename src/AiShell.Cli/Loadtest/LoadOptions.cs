namespace AiShell.Cli.Loadtest;

/// <summary>What `aishell loadtest` was asked to do.</summary>
internal sealed record LoadOptions
{
    public required TimeSpan Duration { get; init; }
    public required int Concurrency { get; init; }
    public double? Rate { get; init; }
    public int Batch { get; init; } = 1000;
    public IReadOnlyList<(string Op, int Weight)> Mix { get; init; } = [("select", 80), ("insert", 15), ("update", 5)];
    public int? Port { get; init; }

    /// <summary>--synthetic: <c>EventRecorder.Record</c> per event rather than <c>RecordAll</c> per chunk.</summary>
    public bool PerEvent { get; init; }
    public string? ConfigPath { get; init; }
    public double MaxErrorRate { get; init; } = 0.05;

    /// <summary>Parses "select=80,insert=15,update=5".</summary>
    public static IReadOnlyList<(string Op, int Weight)> ParseMix(string text)
    {
        var mix = new List<(string, int)>();
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string[] kv = part.Split('=', 2);
            if (kv.Length != 2 || kv[0] is not ("select" or "insert" or "update" or "delete")
                || !int.TryParse(kv[1], out int weight) || weight < 0)
            {
                throw new FormatException($"--mix: '{part}' is not op=weight with op one of select, insert, update, delete");
            }

            mix.Add((kv[0], weight));
        }

        return mix.Sum(m => m.Item2) > 0 ? mix : throw new FormatException("--mix: the weights add up to zero");
    }

    /// <summary>"30s", "2m", "500ms", or a number of seconds.</summary>
    public static TimeSpan ParseDuration(string text) =>
        Pipeline.Configuration.Scalars.TryDuration(text, out TimeSpan value) && value > TimeSpan.Zero
            ? value
            : throw new FormatException($"--duration: '{text}' is not a duration such as 30s, 2m or 500ms");

    /// <summary>Picks an operation by weight.</summary>
    public string PickOp(Random random)
    {
        int total = Mix.Sum(m => m.Weight);
        int roll = random.Next(total);
        foreach ((string op, int weight) in Mix)
        {
            if (roll < weight)
            {
                return op;
            }

            roll -= weight;
        }

        return Mix[^1].Op;
    }
}
