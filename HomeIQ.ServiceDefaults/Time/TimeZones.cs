namespace HomeIQ.ServiceDefaults.Time;

/// <summary>Time zones by IANA id, as users give them for their home, tariff, schedules and quiet hours.</summary>
public static class TimeZones
{
    /// <summary>An IANA zone from the system's tz database; anything else (unknown, malformed, a path) is no zone.</summary>
    public static TimeZoneInfo? Find(string? id)
    {
        if (id is not { Length: > 0 and <= 64 } || id.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '/' or '_' or '-' or '+')) || id.Contains("..", StringComparison.Ordinal))
        {
            return null;
        }
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(id);
        }
        catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException or ArgumentException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}

/// <summary>Weekday names as HomeIQ's APIs spell them: <c>sun</c>, <c>mon</c> … <c>sat</c>.</summary>
public static class Weekdays
{
    /// <summary>The names, indexed by <see cref="DayOfWeek"/>.</summary>
    public static readonly string[] Names = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

    /// <summary>The day a name stands for (any case), or null.</summary>
    public static DayOfWeek? Parse(string? name) => Array.IndexOf(Names, name?.ToLowerInvariant()) is var i and >= 0 ? (DayOfWeek)i : null;

    /// <summary>The name of a day.</summary>
    public static string Name(DayOfWeek day) => Names[(int)day];
}

/// <summary>
/// A daily window of local wall-clock time: <see cref="From"/> is inside, <see cref="To"/> is not, and a window whose end is not after
/// its start wraps past midnight (22:00–07:00). Local time follows the zone's rules, daylight saving included, so 22:00 is 22:00 on the
/// wall clock all year. Quiet hours and the time conditions of rules are such windows.
/// </summary>
public readonly record struct DailyWindow(TimeOnly From, TimeOnly To)
{
    /// <summary>Whether <paramref name="instant"/> falls inside the window, in <paramref name="zone"/>.</summary>
    public bool Contains(DateTimeOffset instant, TimeZoneInfo zone)
    {
        ArgumentNullException.ThrowIfNull(zone);
        var local = TimeOnly.FromDateTime(TimeZoneInfo.ConvertTime(instant, zone).DateTime);
        return From < To ? local >= From && local < To : local >= From || local < To;
    }
}
