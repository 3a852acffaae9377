namespace AiShell.Pipeline.Benchmarks;

/// <summary>
/// The product's query series: labels database/type/status, a counter and a 14-bucket histogram per
/// label set. 10,000 label sets are 10,000 counter + 10,000 histogram series, 180,000 samples.
/// </summary>
internal static class ProductShape
{
    public static readonly string[] LabelNames = ["database", "type", "status"];
    public static readonly string[] Types = ["SELECT", "INSERT", "UPDATE", "DELETE", "OTHER"];
    public static readonly string[] Statuses = ["success", "error"];

    public static double[] Buckets { get; } = BuildBuckets();

    public static (string Database, string Type, string Status) Labels(int i) =>
        ("db" + (i / (Types.Length * Statuses.Length)), Types[i % Types.Length], Statuses[i / Types.Length % Statuses.Length]);

    /// <summary>A spread of durations so every bucket has counts and sums are not whole.</summary>
    public static double Duration(int i) => 0.0003 * (1 + (i % 997));

    private static double[] BuildBuckets()
    {
        var b = new double[14];
        for (int i = 0; i < b.Length; i++)
        {
            b[i] = 0.0005 * Math.Pow(2, i);
        }

        return b;
    }
}
