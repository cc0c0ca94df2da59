namespace HomeIQ.Notifications.Domain;

/// <summary>
/// A daily window of local time, in the user's IANA time zone, during which nothing is pushed live (the inbox still gets it).
/// <see cref="From"/> is inside the window and <see cref="To"/> is not; a window whose end is not after its start wraps past
/// midnight (22:00–07:00). Local time follows the zone's rules, daylight saving included, so 22:00 is 22:00 on the wall clock all year.
/// </summary>
public sealed record QuietHours(TimeOnly From, TimeOnly To)
{
    /// <summary>Whether <paramref name="instant"/> falls inside the window, in <paramref name="zone"/>.</summary>
    public bool Contains(DateTimeOffset instant, TimeZoneInfo zone)
    {
        ArgumentNullException.ThrowIfNull(zone);
        var local = TimeOnly.FromDateTime(TimeZoneInfo.ConvertTime(instant, zone).DateTime);
        return From < To ? local >= From && local < To : local >= From || local < To;
    }

    /// <summary>The zone for an IANA id, or null when this machine does not know it.</summary>
    public static TimeZoneInfo? FindZone(string? id) =>
        id is { Length: > 0 and <= 64 } && TimeZoneInfo.TryFindSystemTimeZoneById(id, out var zone) ? zone : null;
}
