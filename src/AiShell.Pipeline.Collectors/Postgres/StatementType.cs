namespace AiShell.Pipeline.Collectors.Postgres;

/// <summary>The <c>type</c> label of a statement: SELECT, INSERT, UPDATE, DELETE or OTHER.</summary>
public static class StatementType
{
    /// <summary>
    /// The first keyword, skipping whitespace, comments and opening parentheses. A <c>WITH</c> query
    /// takes the type of the first top-level SELECT/INSERT/UPDATE/DELETE after its CTE list.
    /// </summary>
    public static string Classify(ReadOnlySpan<char> sql)
    {
        int position = 0;
        int depth = 0;
        bool inWith = false;
        while (NextWord(sql, ref position, ref depth) is { } range)
        {
            ReadOnlySpan<char> word = sql[range];
            if (!inWith)
            {
                if (!word.Equals("WITH", StringComparison.OrdinalIgnoreCase))
                {
                    return Keyword(word) ?? "OTHER";
                }

                inWith = true;
            }
            else if (depth == 0 && Keyword(word) is { } type)
            {
                return type;
            }
        }

        return "OTHER";
    }

    private static string? Keyword(ReadOnlySpan<char> word) =>
        word.Equals("SELECT", StringComparison.OrdinalIgnoreCase) || word.Equals("VALUES", StringComparison.OrdinalIgnoreCase)
            || word.Equals("TABLE", StringComparison.OrdinalIgnoreCase) ? "SELECT"
        : word.Equals("INSERT", StringComparison.OrdinalIgnoreCase) ? "INSERT"
        : word.Equals("UPDATE", StringComparison.OrdinalIgnoreCase) ? "UPDATE"
        : word.Equals("DELETE", StringComparison.OrdinalIgnoreCase) ? "DELETE"
        : null;

    /// <summary>The next word outside comments and quoted text, tracking parenthesis depth.</summary>
    private static Range? NextWord(ReadOnlySpan<char> sql, ref int i, ref int depth)
    {
        while (i < sql.Length)
        {
            char c = sql[i];
            if (c == '-' && i + 1 < sql.Length && sql[i + 1] == '-')
            {
                int end = sql[i..].IndexOf('\n');
                i = end < 0 ? sql.Length : i + end + 1;
            }
            else if (c == '/' && i + 1 < sql.Length && sql[i + 1] == '*')
            {
                int end = sql[(i + 2)..].IndexOf("*/", StringComparison.Ordinal);
                i = end < 0 ? sql.Length : i + 2 + end + 2;
            }
            else if (c is '\'' or '"')
            {
                int end = sql[(i + 1)..].IndexOf(c);
                i = end < 0 ? sql.Length : i + 1 + end + 1;
            }
            else if (char.IsLetter(c) || c == '_')
            {
                int start = i;
                while (i < sql.Length && (char.IsLetterOrDigit(sql[i]) || sql[i] == '_' || sql[i] == '$'))
                {
                    i++;
                }

                return start..i;
            }
            else
            {
                depth += c == '(' ? 1 : c == ')' && depth > 0 ? -1 : 0;
                i++;
            }
        }

        return null;
    }
}
