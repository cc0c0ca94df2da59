using System.Collections.Concurrent;

namespace HomeIQ.Hosting.Dashboard.Telemetry;

/// <summary>
/// A bounded, thread-safe intern pool for the strings telemetry repeats endlessly (resource names, attribute keys, span
/// names, short values): held telemetry then shares one copy. Once full it stops adding and returns its input.
/// </summary>
internal sealed class StringPool(int capacity = 16_384, int maxLength = 64)
{
    private readonly ConcurrentDictionary<string, string> _strings = new(StringComparer.Ordinal);

    public string Intern(string value)
    {
        if (value.Length == 0)
        {
            return "";
        }
        if (value.Length > maxLength)
        {
            return value;
        }
        if (_strings.TryGetValue(value, out var pooled))
        {
            return pooled;
        }
        return _strings.Count < capacity ? _strings.GetOrAdd(value, value) : value;
    }
}
