namespace HomeIQ.Devices.Apis;

/// <summary>
/// Text that reaches the database: Postgres' text and jsonb cannot hold U+0000 (22021, 22P05), and a name, external id, metric or
/// unit with a control character is never meant, so requests carrying one are a 400 naming the field instead.
/// </summary>
internal static class StoredText
{
    public static bool HasControlCharacters(string text) =>
        text.AsSpan().IndexOfAnyInRange('\u0000', '\u001f') >= 0 || text.AsSpan().IndexOfAnyInRange('\u007f', '\u009f') >= 0;

    public static string NoControlCharacters(string field) => $"The {field} must not contain control characters (such as U+0000).";
}
