using System.Text.Json;
using HomeIQ.Devices.Apis;
using Npgsql;

namespace HomeIQ.Devices.Infrastructure;

/// <summary>Reads the devices of a home by external id (Home Assistant entity ids), for the ingestion bridge.</summary>
internal static class ExternalDevices
{
    private const string Columns = "id, external_id, name, kind, capabilities::text";

    private static ExternalDevice Read(NpgsqlDataReader reader) => new(
        reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
        JsonSerializer.Deserialize<Capability[]>(reader.GetString(4), DeviceRows.Json) ?? []);

    public static async Task<ExternalDevice[]> ListAsync(NpgsqlDataSource db, Guid homeId, CancellationToken ct)
    {
        await using var select = db.CreateCommand($"SELECT {Columns} FROM devices WHERE home_id = $1 AND external_id IS NOT NULL ORDER BY external_id");
        select.Parameters.Add(new() { Value = homeId });
        await using var reader = await select.ExecuteReaderAsync(ct);
        var result = new List<ExternalDevice>();
        while (await reader.ReadAsync(ct))
        {
            result.Add(Read(reader));
        }
        return [.. result];
    }

    public static async Task<ExternalDevice?> FindAsync(NpgsqlDataSource db, Guid homeId, string externalId, CancellationToken ct)
    {
        await using var select = db.CreateCommand($"SELECT {Columns} FROM devices WHERE home_id = $1 AND external_id = $2");
        select.Parameters.Add(new() { Value = homeId });
        select.Parameters.Add(new() { Value = externalId });
        await using var reader = await select.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Read(reader) : null;
    }
}
