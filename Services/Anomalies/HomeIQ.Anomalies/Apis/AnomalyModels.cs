using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace HomeIQ.Anomalies.Apis;

/// <summary>One anomaly. Kind: outlier, offline, stuck, levelShift, implausible; status: open, acknowledged, resolved; severity: low, medium, high.</summary>
/// <param name="ExpectedLow">The low end of what the detector expected (for offline and stuck: 0 seconds).</param>
/// <param name="ExpectedHigh">The high end of what it expected (for offline and stuck: the silence or stillness it expected at most, in seconds).</param>
/// <param name="DetectedAt">When the reading that showed it was measured (offline: when the sweep noticed the silence).</param>
public sealed record AnomalyDto(Guid Id, Guid HomeId, Guid DeviceId, string Metric, string Kind, string Status, string Severity, string Description,
    double? Value, double? ExpectedLow, double? ExpectedHigh, DateTimeOffset DetectedAt, DateTimeOffset? AcknowledgedAt, string? AcknowledgedBy,
    DateTimeOffset? ResolvedAt);

/// <summary>A page of anomalies, newest first; <paramref name="Next"/> is the <c>after</c> cursor of the next page, null on the last.</summary>
public sealed record AnomalyPage(IReadOnlyList<AnomalyDto> Anomalies, string? Next);

/// <summary>Parses and checks query parameters, collecting errors by parameter name.</summary>
internal sealed class QueryErrors
{
    private static readonly DateTimeOffset Earliest = new(1970, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Latest = new(9000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public Dictionary<string, string[]> Errors { get; } = new(StringComparer.Ordinal);

    public bool Any => Errors.Count > 0;

    public void Add(string name, string message) => Errors.TryAdd(name, [message]);

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

    public string? OneOf(string name, string? raw, IReadOnlyCollection<string> allowed)
    {
        if (raw is null)
        {
            return null;
        }
        if (allowed.Contains(raw))
        {
            return raw;
        }
        Add(name, $"'{name}' must be one of {string.Join(", ", allowed)}.");
        return null;
    }

    public string? OptionalMetric(string? raw)
    {
        if (raw is null)
        {
            return null;
        }
        if (raw.Length is > 0 and <= 200 && !string.IsNullOrWhiteSpace(raw) && !raw.Any(char.IsControl))
        {
            return raw;
        }
        Add("metric", "'metric' must be 1 to 200 characters, not only spaces, without control characters.");
        return null;
    }

    public DateTimeOffset? OptionalTime(string name, string? raw)
    {
        if (raw is null)
        {
            return null;
        }
        if (DateTimeOffset.TryParse(raw, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value) && value >= Earliest && value < Latest)
        {
            return value.ToUniversalTime();
        }
        Add(name, $"'{name}' must be an ISO 8601 time between 1970 and 9000, e.g. 2026-01-31T12:00:00Z.");
        return null;
    }

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

    /// <summary>The keyset position after which a page starts: detection time and id of the last anomaly of the previous page.</summary>
    public (DateTime DetectedAt, Guid Id)? Cursor(string? raw)
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

    public static string CursorOf(AnomalyDto last) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{last.DetectedAt.UtcTicks}|{last.Id:N}")));
}
