using HomeIQ.Contracts;
using HomeIQ.EventBus;
using Npgsql;

namespace HomeIQ.Energy.Infrastructure;

/// <summary>
/// Keeps Energy's view of a device's name, kind and room from the registry's events. No inbox is needed: the upsert keeps the
/// newest registry event (by OccurredAt), so a redelivered or out-of-order event changes nothing.
/// </summary>
internal sealed class DeviceRegistryHandler(NpgsqlDataSource db) : IIntegrationEventHandler<DeviceRegistered>, IIntegrationEventHandler<DeviceUpdated>,
    IIntegrationEventHandler<DeviceRemoved>
{
    private const string Upsert = """
        INSERT INTO energy_devices AS d (device_id, home_id, name, kind, room_id, registry_at) VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (device_id) DO UPDATE SET home_id = excluded.home_id, name = excluded.name, kind = excluded.kind, room_id = excluded.room_id,
            registry_at = excluded.registry_at
        WHERE d.registry_at IS NULL OR d.registry_at <= excluded.registry_at
        """;

    public Task HandleAsync(DeviceRegistered @event, CancellationToken cancellationToken) =>
        UpsertAsync(@event.HomeId, @event.DeviceId, @event.Name, @event.Kind, @event.RoomId, @event.OccurredAt, cancellationToken);

    public Task HandleAsync(DeviceUpdated @event, CancellationToken cancellationToken) =>
        UpsertAsync(@event.HomeId, @event.DeviceId, @event.Name, @event.Kind, @event.RoomId, @event.OccurredAt, cancellationToken);

    public async Task HandleAsync(DeviceRemoved @event, CancellationToken cancellationToken)
    {
        // The device's past kWh stay in the home's totals; it only stops being listed as a device that can be configured.
        await using var command = db.CreateCommand("UPDATE energy_devices SET removed = true WHERE device_id = $1 AND home_id = $2");
        command.Parameters.Add(new() { Value = @event.DeviceId });
        command.Parameters.Add(new() { Value = @event.HomeId });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task UpsertAsync(Guid homeId, Guid deviceId, string? name, string? kind, Guid? roomId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand(Upsert);
        foreach (var value in new object?[] { deviceId, homeId, Clean(name), Clean(kind), roomId, at.UtcDateTime })
        {
            command.Parameters.Add(new() { Value = value ?? DBNull.Value });
        }
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    // U+0000 is refused by Postgres text columns; a name with one must not make the event undeliverable.
    private static string? Clean(string? text) => text?.Replace("\0", "", StringComparison.Ordinal);
}
