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
