namespace HomeIQ.Automations.Domain;

/// <summary>
/// A time of day on some weekdays, in a time zone: "07:30 on weekdays in Europe/Berlin". On the night clocks go forward, a time that
/// does not exist (02:30) happens at the same distance after the gap (03:30); on the night they go back, a time that happens twice
/// happens once, the first time.
/// </summary>
public sealed record Schedule(TimeOnly At, IReadOnlySet<DayOfWeek> Days, TimeZoneInfo Zone)
{
    /// <summary>The first occurrence strictly after <paramref name="after"/>.</summary>
    public DateTimeOffset Next(DateTimeOffset after)
    {
        var localDate = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(after, Zone).DateTime);
        // A week and a day covers every weekday set, whatever the offset between the zone and UTC.
        for (var i = -1; i <= 8; i++)
        {
            var date = localDate.AddDays(i);
            if (Days.Count > 0 && !Days.Contains(date.DayOfWeek))
            {
                continue;
            }
            var instant = ToInstant(date.ToDateTime(At));
            if (instant > after)
            {
                return instant;
            }
        }
        throw new InvalidOperationException("A schedule with at least one day occurs within eight days.");
    }

    /// <summary>The instant a local wall-clock time stands for in <see cref="Zone"/>.</summary>
    public DateTimeOffset ToInstant(DateTime local)
    {
        local = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
        if (Zone.IsInvalidTime(local))
        {
            // In the gap: the offset before the gap puts it the same distance after the gap.
            var before = Zone.GetUtcOffset(local.AddHours(-3));
            return new DateTimeOffset(local, before).ToOffset(Zone.GetUtcOffset(new DateTimeOffset(local, before).UtcDateTime));
        }
        if (Zone.IsAmbiguousTime(local))
        {
            var earliest = Zone.GetAmbiguousTimeOffsets(local).Max();
            return new DateTimeOffset(local, earliest);
        }
        return new DateTimeOffset(local, Zone.GetUtcOffset(local));
    }
}
