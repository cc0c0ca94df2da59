using System.Text.Json;
using HomeIQ.Devices.Apis;
using Microsoft.Extensions.Caching.Memory;
using Npgsql;

namespace HomeIQ.Devices.Infrastructure;

/// <summary>The device → home/kind/capabilities lookup ingestion calls per batch, cached in memory for a short while.</summary>
internal sealed class DeviceLookupCache(IMemoryCache cache, NpgsqlDataSource db)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(30);

    private static string Key(Guid deviceId) => $"device-lookup:{deviceId}";

    public async Task<DeviceLookup?> FindAsync(Guid deviceId, CancellationToken ct)
    {
        if (cache.TryGetValue(Key(deviceId), out DeviceLookup? cached))
        {
            return cached;
        }
        await using var select = db.CreateCommand("SELECT home_id, kind, capabilities::text FROM devices WHERE id = $1");
        select.Parameters.Add(new() { Value = deviceId });
        await using var reader = await select.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return null; // not cached: a device registered a moment later is found at once
        }
        var lookup = new DeviceLookup(deviceId, reader.GetGuid(0), reader.GetString(1),
            JsonSerializer.Deserialize<Capability[]>(reader.GetString(2), DeviceRows.Json) ?? []);
        cache.Set(Key(deviceId), lookup, Lifetime);
        return lookup;
    }

    /// <summary>Called after this service changes or removes a device; other replicas see the change within <see cref="Lifetime"/>.</summary>
    public void Invalidate(Guid deviceId) => cache.Remove(Key(deviceId));
}
