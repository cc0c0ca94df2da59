namespace HomeIQ.Ingestion.Pipeline;

/// <summary>
/// Text that Readings stores: Postgres' text type cannot hold U+0000 (an accepted reading with one would fail its batch in Readings
/// again and again), and a metric or unit with a control character is never meant, so such a reading is rejected as invalid.
/// </summary>
internal static class StoredText
{
    public static bool HasControlCharacters(string text) =>
        text.AsSpan().IndexOfAnyInRange('\u0000', '\u001f') >= 0 || text.AsSpan().IndexOfAnyInRange('\u007f', '\u009f') >= 0;
}
