namespace HomeIQ.Energy.Domain;

public enum Bucket
{
    Hour,
    Day,
    Month,
    All,
}

public enum GroupBy
{
    Home,
    Room,
    Device,
}

/// <summary>What the report needs of a device: its name, room and whether it produces (solar) or consumes.</summary>
public sealed record DeviceInfo(Guid DeviceId, string? Name, Guid? RoomId, bool Producer);

/// <summary>The kWh one device counted in one UTC hour (from its counter, or its power when it has no counter).</summary>
public readonly record struct HourRow(Guid DeviceId, DateTime Hour, double KWh);

/// <summary>One bucket of one group. Self-consumption is known for the whole home only; cost is null without a tariff.</summary>
public sealed record ReportRow(DateTime Start, string? GroupId, string? GroupName, double ConsumedKWh, double ProducedKWh, double NetKWh,
    double? SelfConsumedKWh, double? Cost);

/// <summary>
/// Sums hourly device kWh into buckets and groups, and prices them. A device's or room's cost is its kWh at the tariff's price;
/// the home's cost is what the grid supplied (consumption not covered by production in the same hour) plus the standing charge, so
/// with solar the home costs less than its devices together.
/// </summary>
public static class EnergyReport
{
    public static IReadOnlyList<ReportRow> Summarize(IReadOnlyList<HourRow> rows, IReadOnlyDictionary<Guid, DeviceInfo> devices, TariffHistory tariffs,
        DateTime from, DateTime to, Bucket bucket, GroupBy groupBy)
    {
        var zone = tariffs.Zone;
        var priced = tariffs.Versions.Count > 0;
        // The range holds the UTC hours that start in [from, to): where a local day starts mid-hour (a half-hour offset), an hour
        // counts with the local day it starts in.
        var first = EnergyCalculator.FloorHour(from) == from ? from : EnergyCalculator.FloorHour(from).AddHours(1);
        var byHour = rows.Where(r => r.Hour >= first && r.Hour < to).GroupBy(r => r.Hour).ToDictionary(g => g.Key, g => g.ToList());
        var sums = new SortedDictionary<(DateTime Start, string? Group), Sum>();
        var names = new Dictionary<string, string?>();
        var bucketOf = new BucketOf(bucket, zone, from);
        for (var hour = first; hour < to; hour = hour.AddHours(1))
        {
            var start = bucketOf.Start(hour);
            var version = tariffs.At(hour);
            var price = version?.PriceAt(hour) ?? 0;
            var hourRows = byHour.GetValueOrDefault(hour) ?? [];
            if (groupBy == GroupBy.Home)
            {
                double consumed = 0, produced = 0;
                foreach (var row in hourRows)
                {
                    if (IsProducer(devices, row.DeviceId))
                    {
                        produced += row.KWh;
                    }
                    else
                    {
                        consumed += row.KWh;
                    }
                }
                var self = Math.Min(consumed, produced);
                var cost = version is null ? 0 : ((consumed - self) * price) + version.StandingChargeAt(hour);
                Add(sums, (start, null), consumed, produced, self, cost);
                continue;
            }
            foreach (var row in hourRows)
            {
                devices.TryGetValue(row.DeviceId, out var device);
                var key = groupBy == GroupBy.Device ? row.DeviceId.ToString() : device?.RoomId?.ToString() ?? "none";
                names.TryAdd(key, groupBy == GroupBy.Device ? device?.Name : null);
                var producer = device?.Producer == true;
                Add(sums, (start, key), producer ? 0 : row.KWh, producer ? row.KWh : 0, 0, producer ? 0 : row.KWh * price);
            }
        }
        return [.. sums.Select(s => new ReportRow(s.Key.Start, s.Key.Group, s.Key.Group is null ? null : names.GetValueOrDefault(s.Key.Group),
            s.Value.Consumed, s.Value.Produced, s.Value.Consumed - s.Value.Produced, groupBy == GroupBy.Home ? s.Value.Self : null,
            priced ? s.Value.Cost : null))];
    }

    /// <summary>The whole range for the whole home.</summary>
    public static ReportRow Total(IReadOnlyList<HourRow> rows, IReadOnlyDictionary<Guid, DeviceInfo> devices, TariffHistory tariffs, DateTime from, DateTime to) =>
        Summarize(rows, devices, tariffs, from, to, Bucket.All, GroupBy.Home) is [var total]
            ? total
            : new ReportRow(from, null, null, 0, 0, 0, 0, tariffs.Versions.Count > 0 ? 0 : null);

    /// <summary>
    /// The always-on load: the <paramref name="percentile"/> (nearest rank) of the home's hourly average consumption in W, over the
    /// hours that have any consumption counted; null when none has.
    /// </summary>
    public static (double Watts, int Hours)? Baseline(IReadOnlyList<HourRow> rows, IReadOnlyDictionary<Guid, DeviceInfo> devices, double percentile)
    {
        var hourly = rows.Where(r => !IsProducer(devices, r.DeviceId)).GroupBy(r => r.Hour).Select(g => g.Sum(r => r.KWh) * 1000).Order().ToList();
        if (hourly.Count == 0)
        {
            return null;
        }
        var rank = (int)Math.Ceiling(percentile / 100 * hourly.Count);
        return (hourly[Math.Clamp(rank - 1, 0, hourly.Count - 1)], hourly.Count);
    }

    private static bool IsProducer(IReadOnlyDictionary<Guid, DeviceInfo> devices, Guid deviceId) => devices.TryGetValue(deviceId, out var d) && d.Producer;

    private static void Add(SortedDictionary<(DateTime, string?), Sum> sums, (DateTime, string?) key, double consumed, double produced, double self, double cost)
    {
        if (!sums.TryGetValue(key, out var sum))
        {
            sums[key] = sum = new Sum();
        }
        sum.Consumed += consumed;
        sum.Produced += produced;
        sum.Self += self;
        sum.Cost += cost;
    }

    private sealed class Sum
    {
        public double Consumed;
        public double Produced;
        public double Self;
        public double Cost;
    }

    /// <summary>Maps a UTC hour to the start of its bucket; day and month buckets follow the home's local calendar.</summary>
    private sealed class BucketOf(Bucket bucket, TimeZoneInfo zone, DateTime from)
    {
        public DateTime Start(DateTime hour) => bucket switch
        {
            Bucket.Hour => hour,
            Bucket.Day => LocalTime.DayStart(hour, zone),
            Bucket.Month => LocalTime.MonthStart(hour, zone),
            _ => from,
        };
    }
}
