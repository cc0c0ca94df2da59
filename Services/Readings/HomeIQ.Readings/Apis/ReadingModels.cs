using System.Buffers.Text;
using System.Globalization;
using System.Text;
using HomeIQ.Contracts;

namespace HomeIQ.Readings.Apis;

/// <summary>One stored reading.</summary>
public sealed record RawReading(Guid DeviceId, string Metric, DateTimeOffset Timestamp, double Value, string Unit, long? Sequence);

/// <summary>A page of raw readings ordered by time (then device, metric); <paramref name="Next"/> is the <c>after</c> cursor of the next page.</summary>
public sealed record RawPage(Guid HomeId, DateTimeOffset From, DateTimeOffset To, IReadOnlyList<RawReading> Readings, string? Next);

/// <summary>The latest value of each device metric of a home.</summary>
public sealed record LatestPage(Guid HomeId, IReadOnlyList<LatestReading> Readings);

/// <summary>One bucket of an aggregate.</summary>
public sealed record AggregateBucket(DateTimeOffset Start, double Min, double Max, double Avg, long Count);

/// <summary>Buckets of one device metric; <paramref name="From"/> and <paramref name="To"/> are rounded out to whole buckets.</summary>
public sealed record AggregatePage(Guid HomeId, Guid DeviceId, string Metric, string Bucket, DateTimeOffset From, DateTimeOffset To, IReadOnlyList<AggregateBucket> Buckets);

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
        Add(name, $"'{name}' must be a device id (a non-empty GUID).");
        return null;
    }

    public string? OptionalMetric(string? raw)
    {
        if (raw is null)
        {
            return null;
        }
        if (!IsMetric(raw))
        {
            Add("metric", "'metric' must be 1 to 200 characters, not only spaces, without control characters.");
            return null;
        }
        return raw;
    }

    /// <summary>What a stored metric can be; anything else (U+0000 above all, which Postgres refuses with 22021) finds nothing.</summary>
    private static bool IsMetric(string metric) => metric.Length is > 0 and <= 200 && !string.IsNullOrWhiteSpace(metric) && !metric.Any(char.IsControl);

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

    /// <summary>The keyset position after which a page starts: time, device, metric of the last reading of the previous page.</summary>
    public (DateTimeOffset Ts, Guid DeviceId, string Metric)? Cursor(string? raw)
    {
        if (raw is null)
        {
            return null;
        }
        try
        {
            var bytes = Base64Url.DecodeFromChars(raw);
            var parts = Encoding.UTF8.GetString(bytes).Split('|', 3);
            if (parts.Length == 3 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
                && ticks >= DateTime.MinValue.Ticks && ticks <= DateTime.MaxValue.Ticks && Guid.TryParseExact(parts[1], "N", out var device) && IsMetric(parts[2]))
            {
                return (new DateTimeOffset(ticks, TimeSpan.Zero), device, parts[2]);
            }
        }
        catch (FormatException)
        {
        }
        Add("after", "'after' must be the 'next' cursor of a previous page.");
        return null;
    }

    public static string CursorOf(RawReading last) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{last.Timestamp.UtcTicks}|{last.DeviceId:N}|{last.Metric}")));
}
