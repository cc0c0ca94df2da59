using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace HomeIQ.ServiceDefaults.Errors;

/// <summary>
/// Reads a request's query parameters and collects, by parameter name, what is wrong with each, for one 400 ValidationProblem
/// that names them all. A service derives from it for its own parameters (cursors, ranges).
/// </summary>
/// <param name="earliest">The earliest time a time parameter may name (default 1970-01-01).</param>
public class QueryErrors(DateTimeOffset? earliest = null)
{
    private static readonly DateTimeOffset Latest = new(9000, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly DateTimeOffset _earliest = earliest ?? DateTimeOffset.UnixEpoch;

    /// <summary>The messages by parameter name, as <c>TypedResults.ValidationProblem</c> takes them.</summary>
    public Dictionary<string, string[]> Errors { get; } = new(StringComparer.Ordinal);

    /// <summary>Whether any parameter was wrong.</summary>
    public bool Any => Errors.Count > 0;

    /// <summary>Records what is wrong with <paramref name="name"/> (the first message per parameter is kept).</summary>
    public void Add(string name, string message) => Errors.TryAdd(name, [message]);

    /// <summary>A non-empty GUID, or null when absent.</summary>
    public Guid? OptionalGuid(string name, string? raw)
    {
        if (raw is null)
        {
            return null;
        }
        if (Guid.TryParse(raw, out var value) && value != Guid.Empty)
        {
            return value;
        }
        Add(name, $"'{name}' must be a non-empty GUID.");
        return null;
    }

    /// <summary>What a stored metric name can be; anything else (U+0000 above all, which Postgres refuses) can match nothing.</summary>
    public static bool IsMetric(string metric) =>
        metric.Length is > 0 and <= 200 && !string.IsNullOrWhiteSpace(metric) && !metric.Any(char.IsControl);

    /// <summary>A metric name, or null when absent.</summary>
    public string? OptionalMetric(string? raw)
    {
        if (raw is null || IsMetric(raw))
        {
            return raw;
        }
        Add("metric", "'metric' must be 1 to 200 characters, not only spaces, without control characters.");
        return null;
    }

    /// <summary>An ISO 8601 time (UTC when it names no offset), or null when absent.</summary>
    public DateTimeOffset? OptionalTime(string name, string? raw)
    {
        if (raw is null)
        {
            return null;
        }
        if (DateTimeOffset.TryParse(raw, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value) && value >= _earliest && value < Latest)
        {
            return value.ToUniversalTime();
        }
        Add(name, string.Create(CultureInfo.InvariantCulture, $"'{name}' must be an ISO 8601 time from {_earliest:yyyy-MM-dd} to 9000, e.g. 2026-01-31T12:00:00Z."));
        return null;
    }

    /// <summary><c>limit</c>: a whole number from 1 to <paramref name="max"/>, or <paramref name="fallback"/> when absent.</summary>
    public int Limit(string? raw, int fallback, int max)
    {
        if (raw is null)
        {
            return fallback;
        }
        if (int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= 1 && value <= max)
        {
            return value;
        }
        Add("limit", $"'limit' must be a whole number from 1 to {max}.");
        return fallback;
    }

    /// <summary>One of <paramref name="allowed"/> (case-sensitive), or null when absent.</summary>
    public string? OneOf(string name, string? raw, IReadOnlyCollection<string> allowed)
    {
        ArgumentNullException.ThrowIfNull(allowed);
        if (raw is null || allowed.Contains(raw))
        {
            return raw;
        }
        Add(name, $"'{name}' must be one of {string.Join(", ", allowed)}.");
        return null;
    }

    /// <summary>One of the names in <paramref name="choices"/> (case-sensitive), or <paramref name="fallback"/> when absent.</summary>
    public T Choice<T>(string name, string? raw, IReadOnlyDictionary<string, T> choices, T fallback)
    {
        ArgumentNullException.ThrowIfNull(choices);
        if (raw is null)
        {
            return fallback;
        }
        if (choices.TryGetValue(raw, out var value))
        {
            return value;
        }
        Add(name, $"'{name}' must be one of {string.Join(", ", choices.Keys)}.");
        return fallback;
    }

    /// <summary>
    /// A keyset cursor of a list ordered by time then id (newest first): the <c>after</c> parameter, as <see cref="TimeIdCursorOf"/>
    /// wrote it for the last item of the previous page; null when absent.
    /// </summary>
    public (DateTime Time, Guid Id)? TimeIdCursor(string? raw)
    {
        if (raw is null)
        {
            return null;
        }
        try
        {
            var parts = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(raw)).Split('|');
            if (parts.Length == 2 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
                && ticks >= DateTime.MinValue.Ticks && ticks <= DateTime.MaxValue.Ticks && Guid.TryParseExact(parts[1], "N", out var id))
            {
                return (new DateTime(ticks, DateTimeKind.Utc), id);
            }
        }
        catch (FormatException)
        {
        }
        Add("after", "'after' must be the 'next' cursor of a previous page.");
        return null;
    }

    /// <summary>The cursor that continues a list after the item at <paramref name="time"/> with <paramref name="id"/>.</summary>
    public static string TimeIdCursorOf(DateTimeOffset time, Guid id) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{time.UtcTicks}|{id:N}")));
}
