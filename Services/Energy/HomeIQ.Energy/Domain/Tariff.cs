namespace HomeIQ.Energy.Domain;

/// <summary>A time-of-use period: local hours [FromHour, ToHour) (wrapping past midnight when FromHour ≥ ToHour) on the given weekdays (all when empty).</summary>
public sealed record TouPeriod(string Name, int FromHour, int ToHour, IReadOnlyList<DayOfWeek> Days, double PricePerKWh)
{
    public bool Covers(DateTime local)
    {
        if (Days.Count > 0 && !Days.Contains(local.DayOfWeek))
        {
            return false;
        }
        return FromHour < ToHour ? local.Hour >= FromHour && local.Hour < ToHour : local.Hour >= FromHour || local.Hour < ToHour;
    }
}

/// <summary>
/// One version of a home's tariff, in force from <see cref="EffectiveFrom"/> until the next version's. Prices are per kWh, the
/// standing charge per local day; a TOU period is chosen by the local time at the start of each UTC hour, so DST moves it with the clock.
/// </summary>
public sealed record TariffVersion(DateTime EffectiveFrom, TimeZoneInfo Zone, string Currency, double PricePerKWh, double StandingChargePerDay,
    IReadOnlyList<TouPeriod> Periods)
{
    public double PriceAt(DateTime hourUtc)
    {
        var local = TimeZoneInfo.ConvertTimeFromUtc(hourUtc, Zone);
        foreach (var period in Periods)
        {
            if (period.Covers(local))
            {
                return period.PricePerKWh;
            }
        }
        return PricePerKWh;
    }

    /// <summary>The standing charge for one UTC hour: the day's charge spread over that local day's 23, 24 or 25 hours.</summary>
    public double StandingChargeAt(DateTime hourUtc)
    {
        var day = LocalTime.DayStart(hourUtc, Zone);
        var next = LocalTime.NextDayStart(day, Zone);
        return StandingChargePerDay / (next - day).TotalHours;
    }
}

/// <summary>The versions of a home's tariff, oldest first.</summary>
public sealed class TariffHistory(IReadOnlyList<TariffVersion> versions)
{
    public static readonly TariffHistory None = new([]);

    public IReadOnlyList<TariffVersion> Versions { get; } = [.. versions.OrderBy(v => v.EffectiveFrom)];

    public TariffVersion? At(DateTime utc)
    {
        TariffVersion? found = null;
        foreach (var version in Versions)
        {
            if (version.EffectiveFrom > utc)
            {
                break;
            }
            found = version;
        }
        return found;
    }

    /// <summary>The home's time zone: the current tariff's, UTC without one.</summary>
    public TimeZoneInfo Zone => Versions.Count > 0 ? Versions[^1].Zone : TimeZoneInfo.Utc;

    public string? Currency => Versions.Count > 0 ? Versions[^1].Currency : null;
}

/// <summary>Local calendar boundaries as UTC instants.</summary>
public static class LocalTime
{
    /// <summary>The UTC instant the local day containing <paramref name="utc"/> starts.</summary>
    public static DateTime DayStart(DateTime utc, TimeZoneInfo zone) => StartOf(TimeZoneInfo.ConvertTimeFromUtc(utc, zone).Date, zone);

    public static DateTime NextDayStart(DateTime dayStartUtc, TimeZoneInfo zone) =>
        StartOf(TimeZoneInfo.ConvertTimeFromUtc(dayStartUtc, zone).Date.AddDays(1), zone);

    public static DateTime MonthStart(DateTime utc, TimeZoneInfo zone)
    {
        var local = TimeZoneInfo.ConvertTimeFromUtc(utc, zone);
        return StartOf(new DateTime(local.Year, local.Month, 1), zone);
    }

    public static DateTime NextMonthStart(DateTime monthStartUtc, TimeZoneInfo zone)
    {
        var local = TimeZoneInfo.ConvertTimeFromUtc(monthStartUtc, zone);
        return StartOf(new DateTime(local.Year, local.Month, 1).AddMonths(1), zone);
    }

    /// <summary>
    /// The first instant of a local date. Where a DST change skips midnight (some zones do), the day starts at the first local
    /// time that exists.
    /// </summary>
    public static DateTime StartOf(DateTime localDate, TimeZoneInfo zone)
    {
        var local = DateTime.SpecifyKind(localDate.Date, DateTimeKind.Unspecified);
        while (zone.IsInvalidTime(local))
        {
            local = local.AddMinutes(30);
        }
        return TimeZoneInfo.ConvertTimeToUtc(local, zone);
    }

    public static DateTimeOffset InZone(DateTime utc, TimeZoneInfo zone) =>
        new(TimeZoneInfo.ConvertTimeFromUtc(utc, zone), zone.GetUtcOffset(utc));
}
