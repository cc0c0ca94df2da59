using System.Text.Json;
using HomeIQ.Energy.Domain;
using HomeIQ.ServiceDefaults.Time;
using Npgsql;
using NpgsqlTypes;

namespace HomeIQ.Energy.Infrastructure;

/// <summary>A stored tariff version as the API shows it.</summary>
public sealed record StoredPeriod(string Name, int FromHour, int ToHour, IReadOnlyList<string> Days, double PricePerKWh);

/// <summary>The reads and writes of Energy's tables that the API and the consumer share.</summary>
internal static class EnergyStore
{
    /// <summary>Device kinds that produce energy unless the home says otherwise. The registry has none of these kinds yet; HA-bridged kinds may.</summary>
    private static readonly string[] ProducerKinds = ["solar", "inverter", "solar_inverter", "generator", "producer"];

    public static bool IsProducer(string? kind, string? role) => role is null ? kind is not null && ProducerKinds.Contains(kind, StringComparer.OrdinalIgnoreCase) : role == "producer";

    private static NpgsqlParameter Utc(DateTime value) => new() { Value = value, NpgsqlDbType = NpgsqlDbType.TimestampTz };

    /// <summary>The points of a series that the hours of <paramref name="window"/> depend on: those inside it and one on each side.</summary>
    public static async Task<List<EnergyPoint>> SeriesPointsAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid deviceId, string metric,
        RecomputeWindow window, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("""
            SELECT ts, value FROM energy_points
            WHERE device_id = $1 AND metric = $2
              AND ts >= coalesce((SELECT max(ts) FROM energy_points WHERE device_id = $1 AND metric = $2 AND ts < $3), $3)
              AND ts <= coalesce((SELECT min(ts) FROM energy_points WHERE device_id = $1 AND metric = $2 AND ts > $4), $4)
            ORDER BY ts
            """, connection, transaction) { Parameters = { new() { Value = deviceId }, new() { Value = metric }, Utc(window.Start), Utc(window.End) } };
        var points = new List<EnergyPoint>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            points.Add(new EnergyPoint(DateTime.SpecifyKind(reader.GetDateTime(0), DateTimeKind.Utc), reader.GetDouble(1)));
        }
        return points;
    }

    public sealed record DeviceRow(Guid DeviceId, string? Name, string? Kind, Guid? RoomId, string? Role, bool HasCounter, bool Removed)
    {
        public DeviceInfo Info => new(DeviceId, Name, RoomId, IsProducer(Kind, Role));
    }

    public static async Task<Dictionary<Guid, DeviceRow>> DevicesAsync(NpgsqlDataSource db, Guid homeId, CancellationToken ct)
    {
        await using var command = db.CreateCommand("SELECT device_id, name, kind, room_id, role, has_counter, removed FROM energy_devices WHERE home_id = $1");
        command.Parameters.Add(new() { Value = homeId });
        var devices = new Dictionary<Guid, DeviceRow>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            devices[reader.GetGuid(0)] = new DeviceRow(reader.GetGuid(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetGuid(3), reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetBoolean(5), reader.GetBoolean(6));
        }
        return devices;
    }

    /// <summary>
    /// The home's hourly kWh per device in [from, to): from the device's counter when it has ever reported one, otherwise from its
    /// power (counting both would count the same energy twice).
    /// </summary>
    public static async Task<List<HourRow>> HoursAsync(NpgsqlDataSource db, Guid homeId, DateTime from, DateTime to, CancellationToken ct)
    {
        await using var command = db.CreateCommand("""
            SELECT h.device_id, h.hour, h.kwh FROM energy_hourly h LEFT JOIN energy_devices d ON d.device_id = h.device_id
            WHERE h.home_id = $1 AND h.hour >= $2 AND h.hour < $3
              AND h.metric = CASE WHEN coalesce(d.has_counter, false) THEN 'energy' ELSE 'power' END
            """);
        command.Parameters.Add(new() { Value = homeId });
        command.Parameters.Add(Utc(from));
        command.Parameters.Add(Utc(to));
        var rows = new List<HourRow>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            rows.Add(new HourRow(reader.GetGuid(0), DateTime.SpecifyKind(reader.GetDateTime(1), DateTimeKind.Utc), reader.GetDouble(2)));
        }
        return rows;
    }

    public static async Task<TariffHistory> TariffsAsync(NpgsqlDataSource db, Guid homeId, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            "SELECT effective_from, time_zone, currency, price_per_kwh, standing_charge_per_day, periods::text FROM energy_tariffs WHERE home_id = $1 ORDER BY effective_from");
        command.Parameters.Add(new() { Value = homeId });
        var versions = new List<TariffVersion>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var periods = JsonSerializer.Deserialize<List<StoredPeriod>>(reader.GetString(5), JsonSerializerOptions.Web) ?? [];
            versions.Add(new TariffVersion(DateTime.SpecifyKind(reader.GetDateTime(0), DateTimeKind.Utc), TimeZoneInfo.FindSystemTimeZoneById(reader.GetString(1)),
                reader.GetString(2), reader.GetDouble(3), reader.GetDouble(4),
                [.. periods.Select(p => new TouPeriod(p.Name, p.FromHour, p.ToHour, [.. p.Days.Select(Weekdays.Parse).OfType<DayOfWeek>()], p.PricePerKWh))]));
        }
        return new TariffHistory(versions);
    }
}
