using System.Buffers.Text;
using System.Globalization;
using System.Text;
using HomeIQ.Contracts;
using HomeIQ.ServiceDefaults.Errors;

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
internal sealed class ReadingsQuery : QueryErrors
{
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
