namespace HomeIQ.Postgres;

/// <summary>
/// Text that reaches Postgres: its text and jsonb types cannot hold U+0000 (22021, 22P05), and a name, id, metric or unit with a
/// control character is never meant, so the services refuse such input as the client's mistake (400) instead of failing with a 500.
/// </summary>
public static class StoredText
{
    /// <summary>True when <paramref name="text"/> holds a C0 or C1 control character (U+0000 included).</summary>
    public static bool HasControlCharacters(string text) =>
        text.AsSpan().IndexOfAnyInRange('\u0000', '\u001f') >= 0 || text.AsSpan().IndexOfAnyInRange('\u007f', '\u009f') >= 0;

    /// <summary>The validation message for <paramref name="field"/>.</summary>
    public static string NoControlCharacters(string field) => $"The {field} must not contain control characters (such as U+0000).";
}
