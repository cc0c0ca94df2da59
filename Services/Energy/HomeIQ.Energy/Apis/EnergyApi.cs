using HomeIQ.Energy.Domain;
using HomeIQ.Energy.Infrastructure;
using HomeIQ.ServiceDefaults.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Npgsql;

namespace HomeIQ.Energy.Apis;

/// <summary>kWh consumed and produced per hour, day or month, per home, room or device; cost from the home's tariff; top consumers, baseline, comparison.</summary>
public static class EnergyApi
{
    private static readonly TimeSpan DefaultRange = TimeSpan.FromDays(7);
    private static readonly TimeSpan MaxRange = TimeSpan.FromDays(366);
    private static readonly TimeSpan MaxHourlyRange = TimeSpan.FromDays(31);
    private const double BaselinePercentile = 10;

    private static readonly Dictionary<string, Bucket> Buckets = new(StringComparer.Ordinal) { ["hour"] = Bucket.Hour, ["day"] = Bucket.Day, ["month"] = Bucket.Month };
    private static readonly Dictionary<string, GroupBy> Groups = new(StringComparer.Ordinal) { ["home"] = GroupBy.Home, ["room"] = GroupBy.Room, ["device"] = GroupBy.Device };

    public static IEndpointRouteBuilder MapEnergyApi(this IEndpointRouteBuilder app)
    {
        var energy = app.MapGroup("/api/v1/homes/{homeId:guid}/energy");
        energy.MapGet("/today", GetToday).RequireAuthorization(HomePolicies.HomeMember);
        energy.MapGet("/summary", GetSummary).RequireAuthorization(HomePolicies.HomeMember);
        energy.MapGet("/top", GetTop).RequireAuthorization(HomePolicies.HomeMember);
        energy.MapGet("/baseline", GetBaseline).RequireAuthorization(HomePolicies.HomeMember);
        energy.MapGet("/compare", GetCompare).RequireAuthorization(HomePolicies.HomeMember);
        energy.MapPut("/devices/{deviceId:guid}", PutDeviceRole).RequireAuthorization(HomePolicies.HomeWriter);
        energy.MapTariffApi();
        return app;
    }

    private sealed record HomeData(Dictionary<Guid, DeviceInfo> Devices, List<HourRow> Hours, TariffHistory Tariffs);

    private static async Task<HomeData> LoadAsync(NpgsqlDataSource db, Guid homeId, DateTime from, DateTime to, CancellationToken ct)
    {
        var devices = await EnergyStore.DevicesAsync(db, homeId, ct);
        var hours = await EnergyStore.HoursAsync(db, homeId, from, to, ct);
        var tariffs = await EnergyStore.TariffsAsync(db, homeId, ct);
        return new HomeData(devices.ToDictionary(d => d.Key, d => d.Value.Info), hours, tariffs);
    }

    private static EnergyRow Row(ReportRow r, TimeZoneInfo zone) =>
        new(LocalTime.InZone(r.Start, zone), r.GroupId, r.GroupName, Round(r.ConsumedKWh), Round(r.ProducedKWh), Round(r.NetKWh),
            r.SelfConsumedKWh is { } s ? Round(s) : null, r.Cost is { } c ? Round(c) : null);

    private static double Round(double value) => Math.Round(value, 6);

    /// <summary>Today (local midnight to midnight in the home's time zone): consumed, produced, net kWh and cost.</summary>
    internal static async Task<Ok<EnergyToday>> GetToday(Guid homeId, NpgsqlDataSource db, CancellationToken ct)
    {
        var tariffs = await EnergyStore.TariffsAsync(db, homeId, ct);
        var zone = tariffs.Zone;
        var from = LocalTime.DayStart(DateTime.UtcNow, zone);
        var to = LocalTime.NextDayStart(from, zone);
        var data = await LoadAsync(db, homeId, from, to, ct);
        var total = EnergyReport.Total(data.Hours, data.Devices, data.Tariffs, from, to);
        return TypedResults.Ok(new EnergyToday(homeId, LocalTime.InZone(from, zone), LocalTime.InZone(to, zone), zone.Id, Round(total.ConsumedKWh),
            Round(total.ProducedKWh), Round(total.NetKWh), total.Cost is { } c ? Round(c) : null, tariffs.Currency));
    }

    /// <summary>
    /// kWh and cost in [from, to) (default: the last 7 days; rounded out to whole hours), per bucket (hour, day or month; default day)
    /// and group (home, room or device; default home). Hourly buckets cover at most 31 days, the others 366.
    /// </summary>
    internal static async Task<Results<Ok<EnergySummary>, ValidationProblem>> GetSummary(Guid homeId, string? from, string? to, string? bucket, string? groupBy,
        NpgsqlDataSource db, CancellationToken ct)
    {
        var query = new EnergyQuery();
        var size = query.Choice("bucket", bucket, Buckets, Bucket.Day);
        var group = query.Choice("groupBy", groupBy, Groups, GroupBy.Home);
        var (start, end) = query.Range(from, to, DefaultRange, size == Bucket.Hour ? MaxHourlyRange : MaxRange);
        if (query.Any)
        {
            return TypedResults.ValidationProblem(query.Errors);
        }
        var data = await LoadAsync(db, homeId, start, end, ct);
        var zone = data.Tariffs.Zone;
        var rows = EnergyReport.Summarize(data.Hours, data.Devices, data.Tariffs, start, end, size, group);
        var total = EnergyReport.Total(data.Hours, data.Devices, data.Tariffs, start, end);
        return TypedResults.Ok(new EnergySummary(homeId, LocalTime.InZone(start, zone), LocalTime.InZone(end, zone), size.ToString().ToLowerInvariant(),
            group.ToString().ToLowerInvariant(), zone.Id, data.Tariffs.Currency, Row(total, zone), [.. rows.Select(r => Row(r, zone))]));
    }

    /// <summary>The devices that consumed most in [from, to) (default: the last 7 days), with their cost; at most <c>limit</c> (default 10, at most 100).</summary>
    internal static async Task<Results<Ok<TopConsumers>, ValidationProblem>> GetTop(Guid homeId, string? from, string? to, string? limit, NpgsqlDataSource db,
        CancellationToken ct)
    {
        var query = new EnergyQuery();
        var take = query.Limit(limit, 10, 100);
        var (start, end) = query.Range(from, to, DefaultRange, MaxRange);
        if (query.Any)
        {
            return TypedResults.ValidationProblem(query.Errors);
        }
        var data = await LoadAsync(db, homeId, start, end, ct);
        var rows = EnergyReport.Summarize(data.Hours, data.Devices, data.Tariffs, start, end, Bucket.All, GroupBy.Device);
        var top = rows.Where(r => r.ConsumedKWh > 0).OrderByDescending(r => r.ConsumedKWh).Take(take).Select(r =>
        {
            var id = Guid.Parse(r.GroupId!);
            return new TopConsumer(id, r.GroupName, data.Devices.GetValueOrDefault(id)?.RoomId, Round(r.ConsumedKWh), r.Cost is { } c ? Round(c) : null);
        });
        var zone = data.Tariffs.Zone;
        return TypedResults.Ok(new TopConsumers(homeId, LocalTime.InZone(start, zone), LocalTime.InZone(end, zone), data.Tariffs.Currency, [.. top]));
    }

    /// <summary>The home's always-on load in [from, to) (default: the last 7 days).</summary>
    internal static async Task<Results<Ok<EnergyBaseline>, ValidationProblem>> GetBaseline(Guid homeId, string? from, string? to, NpgsqlDataSource db,
        CancellationToken ct)
    {
        var query = new EnergyQuery();
        var (start, end) = query.Range(from, to, DefaultRange, MaxRange);
        if (query.Any)
        {
            return TypedResults.ValidationProblem(query.Errors);
        }
        var data = await LoadAsync(db, homeId, start, end, ct);
        var baseline = EnergyReport.Baseline(data.Hours, data.Devices, BaselinePercentile);
        var zone = data.Tariffs.Zone;
        return TypedResults.Ok(new EnergyBaseline(homeId, LocalTime.InZone(start, zone), LocalTime.InZone(end, zone),
            baseline is { } b ? Round(b.Watts) : null, baseline is { } d ? Round(d.Watts * 24 / 1000) : null, baseline?.Hours ?? 0));
    }

    /// <summary>[from, to) (default: the last 7 days) against the period of the same length just before it.</summary>
    internal static async Task<Results<Ok<EnergyComparison>, ValidationProblem>> GetCompare(Guid homeId, string? from, string? to, NpgsqlDataSource db,
        CancellationToken ct)
    {
        var query = new EnergyQuery();
        var (start, end) = query.Range(from, to, DefaultRange, MaxRange);
        if (query.Any)
        {
            return TypedResults.ValidationProblem(query.Errors);
        }
        var previousStart = start - (end - start);
        var data = await LoadAsync(db, homeId, previousStart, end, ct);
        var zone = data.Tariffs.Zone;
        PeriodTotals Totals(DateTime a, DateTime b)
        {
            var t = EnergyReport.Total(data.Hours, data.Devices, data.Tariffs, a, b);
            return new PeriodTotals(LocalTime.InZone(a, zone), LocalTime.InZone(b, zone), Round(t.ConsumedKWh), Round(t.ProducedKWh), Round(t.NetKWh),
                t.Cost is { } c ? Round(c) : null);
        }
        var current = Totals(start, end);
        var previous = Totals(previousStart, start);
        static double? Change(double? now, double? before) => now is { } n && before is { } b && b != 0 ? Math.Round((n - b) / b * 100, 2) : null;
        return TypedResults.Ok(new EnergyComparison(homeId, data.Tariffs.Currency, current, previous, Change(current.ConsumedKWh, previous.ConsumedKWh),
            Change(current.Cost, previous.Cost)));
    }

    /// <summary>Makes a device a consumer or a producer (solar), or (role null) gives it back the default of its kind.</summary>
    internal static async Task<Results<Ok<DeviceRoleDto>, ValidationProblem, NotFound<ProblemDetails>>> PutDeviceRole(Guid homeId, Guid deviceId,
        DeviceRoleRequest request, NpgsqlDataSource db, CancellationToken ct)
    {
        if (request.Role is not (null or "consumer" or "producer"))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["role"] = ["'role' must be \"consumer\", \"producer\" or null (the default of the device's kind)."] });
        }
        await using var command = db.CreateCommand(
            "UPDATE energy_devices SET role = $3 WHERE device_id = $1 AND home_id = $2 AND NOT removed RETURNING name, kind, has_counter");
        command.Parameters.Add(new() { Value = deviceId });
        command.Parameters.Add(new() { Value = homeId });
        command.Parameters.Add(new() { Value = (object?)request.Role ?? DBNull.Value });
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return TypedResults.NotFound(new ProblemDetails { Title = "No such device", Detail = "Energy knows no such device in this home.", Status = 404 });
        }
        var name = reader.IsDBNull(0) ? null : reader.GetString(0);
        var kind = reader.IsDBNull(1) ? null : reader.GetString(1);
        var role = EnergyStore.IsProducer(kind, request.Role) ? "producer" : "consumer";
        return TypedResults.Ok(new DeviceRoleDto(deviceId, name, kind, role, request.Role is null, reader.GetBoolean(2) ? "energy" : "power"));
    }
}
