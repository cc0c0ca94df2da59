using System.Globalization;
using HomeIQ.Energy.Domain;
using HomeIQ.Energy.Infrastructure;
using HomeIQ.ServiceDefaults.Errors;

namespace HomeIQ.Energy.Apis;

/// <summary>kWh and cost of one bucket of one group (home, room or device). Self-consumption is given for the home only.</summary>
public sealed record EnergyRow(DateTimeOffset Start, string? GroupId, string? Name, double ConsumedKWh, double ProducedKWh, double NetKWh,
    double? SelfConsumedKWh, double? Cost);

/// <summary>A summary; day and month buckets start at local midnight in <paramref name="TimeZone"/> (the current tariff's, UTC without one).</summary>
public sealed record EnergySummary(Guid HomeId, DateTimeOffset From, DateTimeOffset To, string Bucket, string GroupBy, string TimeZone, string? Currency,
    EnergyRow Total, IReadOnlyList<EnergyRow> Rows);

/// <summary>Today in the home's time zone, as the home overview shows it.</summary>
public sealed record EnergyToday(Guid HomeId, DateTimeOffset From, DateTimeOffset To, string TimeZone, double KWh, double ProducedKWh, double NetKWh,
    double? Cost, string? Currency);

public sealed record TopConsumer(Guid DeviceId, string? Name, Guid? RoomId, double KWh, double? Cost);

public sealed record TopConsumers(Guid HomeId, DateTimeOffset From, DateTimeOffset To, string? Currency, IReadOnlyList<TopConsumer> Devices);

/// <summary>The always-on load: the 10th percentile of the hourly average consumption over the hours that have any.</summary>
public sealed record EnergyBaseline(Guid HomeId, DateTimeOffset From, DateTimeOffset To, double? BaselineW, double? KWhPerDay, int HoursMeasured);

public sealed record PeriodTotals(DateTimeOffset From, DateTimeOffset To, double ConsumedKWh, double ProducedKWh, double NetKWh, double? Cost);

/// <summary>This period against the one of the same length just before it; changes in percent are null when the previous period is zero.</summary>
public sealed record EnergyComparison(Guid HomeId, string? Currency, PeriodTotals Current, PeriodTotals Previous, double? ConsumedChangePercent,
    double? CostChangePercent);

public sealed record TouPeriodRequest(string? Name, int? FromHour, int? ToHour, IReadOnlyList<string?>? Days, double? PricePerKWh);

/// <summary>A tariff version: a flat price, optionally time-of-use periods that override it, a standing charge per local day.</summary>
public sealed record TariffRequest(string? TimeZone, string? Currency, double? PricePerKWh, double? StandingChargePerDay,
    IReadOnlyList<TouPeriodRequest?>? Periods, string? EffectiveFrom);

public sealed record TariffDto(DateTimeOffset EffectiveFrom, string TimeZone, string Currency, double PricePerKWh, double StandingChargePerDay,
    IReadOnlyList<StoredPeriod> Periods);

/// <summary>The tariff in force now (null when none is), and every version, oldest first.</summary>
public sealed record TariffPage(Guid HomeId, TariffDto? Current, IReadOnlyList<TariffDto> Versions);

/// <summary>"consumer", "producer", or null to go back to the default of the device's kind.</summary>
public sealed record DeviceRoleRequest(string? Role);

public sealed record DeviceRoleDto(Guid DeviceId, string? Name, string? Kind, string Role, bool RoleIsDefault, string CountedFrom);

/// <summary>Energy's query parameters: a range of whole hours. Not before 1970-01-02, so that a range rounded out to local days in any time zone stays after the epoch.</summary>
internal sealed class EnergyQuery() : QueryErrors(new DateTimeOffset(1970, 1, 2, 0, 0, 0, TimeSpan.Zero))
{
    /// <summary>[from, to) rounded out to whole UTC hours; by default the <paramref name="fallback"/> up to now.</summary>
    public (DateTime From, DateTime To) Range(string? from, string? to, TimeSpan fallback, TimeSpan max)
    {
        var end = OptionalTime("to", to) ?? DateTimeOffset.UtcNow;
        var start = OptionalTime("from", from) ?? end - fallback;
        if (Any)
        {
            return default;
        }
        if (start >= end)
        {
            Add("from", "'from' must be before 'to'.");
        }
        else if (end - start > max)
        {
            Add("to", $"The range from 'from' to 'to' may cover at most {max.TotalDays:0} days here.");
        }
        var first = EnergyCalculator.FloorHour(start.UtcDateTime);
        var last = EnergyCalculator.FloorHour(end.UtcDateTime);
        return (first, last < end.UtcDateTime ? last.AddHours(1) : last);
    }
}
