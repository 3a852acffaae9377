using System.Globalization;

namespace AiShell.Pipeline.Configuration;

/// <summary>Parsing of scalar config values, shared by the file loader and <c>config set</c>.</summary>
public static class Scalars
{
    public static bool TryBool(string text, out bool value)
    {
        switch (text.Trim().ToLowerInvariant())
        {
            case "true" or "yes" or "on":
                value = true;
                return true;
            case "false" or "no" or "off":
                value = false;
                return true;
            default:
                value = false;
                return false;
        }
    }

    public static bool TryInt(string text, out int value) =>
        int.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);

    public static bool TryDouble(string text, out double value) =>
        double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out value)
        && double.IsFinite(value);

    /// <summary>Seconds as a bare number (the integration guide's <c>collect_interval: 15</c>), or 500ms / 15s / 2m / 1h.</summary>
    public static bool TryDuration(string text, out TimeSpan value)
    {
        string t = text.Trim();
        double factor = 1;
        if (t.EndsWith("ms", StringComparison.Ordinal))
        {
            factor = 0.001;
            t = t[..^2];
        }
        else if (t.Length > 0 && t[^1] is 's' or 'm' or 'h')
        {
            factor = t[^1] switch { 's' => 1, 'm' => 60, _ => 3600 };
            t = t[..^1];
        }

        if (TryDouble(t, out double number))
        {
            value = TimeSpan.FromSeconds(number * factor);
            return true;
        }

        value = default;
        return false;
    }

    public static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    public static string Format(TimeSpan value) => Format(value.TotalSeconds);
}
