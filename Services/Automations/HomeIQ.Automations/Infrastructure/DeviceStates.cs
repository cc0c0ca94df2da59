using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace HomeIQ.Automations.Infrastructure;

/// <summary>A device's last known state and attributes.</summary>
internal sealed record DeviceState(string State, IReadOnlyDictionary<string, string>? Attributes);

/// <summary>
/// The last known state of each device, from <c>device.state-changed.v1</c> and from the replies to commands: what state triggers
/// compare with, state conditions read, and a compensation puts back. The newest report wins.
/// </summary>
internal static class DeviceStates
{
    /// <summary>Records a state; returns the state it replaced (null when there was none, or when this report is older than the stored one).</summary>
    public static async Task<(bool Changed, string? Previous)> SetAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid homeId, Guid deviceId,
        string state, IReadOnlyDictionary<string, string>? attributes, DateTimeOffset at, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("""
            WITH old AS (SELECT state FROM device_states WHERE device_id = $1 FOR UPDATE)
            INSERT INTO device_states AS d (device_id, home_id, state, attributes, updated_at) VALUES ($1, $2, $3, $4::jsonb, $5)
            ON CONFLICT (device_id) DO UPDATE SET state = excluded.state, attributes = excluded.attributes, updated_at = excluded.updated_at
            WHERE d.updated_at <= excluded.updated_at
            RETURNING (SELECT state FROM old)
            """, connection, transaction)
        {
            Parameters =
            {
                Runs.P(deviceId), Runs.P(homeId), Runs.P(state), Runs.P(attributes is null ? null : JsonSerializer.Serialize(attributes, JsonSerializerOptions.Web)),
                new() { Value = at.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz },
            },
        };
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        return await reader.ReadAsync(ct).ConfigureAwait(false) ? (true, reader.IsDBNull(0) ? null : reader.GetString(0)) : (false, null);
    }

    public static async Task<DeviceState?> GetAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid deviceId, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("SELECT state, attributes::text FROM device_states WHERE device_id = $1", connection, transaction)
        {
            Parameters = { Runs.P(deviceId) },
        };
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        if (!await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            return null;
        }
        return new DeviceState(reader.GetString(0),
            reader.IsDBNull(1) ? null : JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(1), JsonSerializerOptions.Web));
    }
}
