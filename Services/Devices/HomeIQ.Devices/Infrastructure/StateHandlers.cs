using System.Text.Json;
using HomeIQ.Contracts;
using HomeIQ.EventBus;
using HomeIQ.EventBus.Postgres;
using Npgsql;
using NpgsqlTypes;

namespace HomeIQ.Devices.Infrastructure;

/// <summary>
/// <c>device_state</c>, the source of truth of the state view: an upsert where the newest timestamp wins; unknown devices and
/// devices of another home are ignored.
/// </summary>
internal static class DeviceStateStore
{
    private const string Upsert = """
        INSERT INTO device_state (device_id, metric, value, unit, ts)
        SELECT DISTINCT ON (u.device_id, u.metric) u.device_id, u.metric, u.value::jsonb, u.unit, u.ts
        FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::timestamptz[]) AS u(home_id, device_id, metric, value, unit, ts)
        JOIN devices d ON d.id = u.device_id AND d.home_id = u.home_id
        ORDER BY u.device_id, u.metric, u.ts DESC
        ON CONFLICT (device_id, metric) DO UPDATE SET value = excluded.value, unit = excluded.unit, ts = excluded.ts
        WHERE device_state.ts < excluded.ts
        RETURNING device_id
        """;

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>One metric's new value, reported for a device of <paramref name="HomeId"/>.</summary>
    public sealed record Change(Guid HomeId, Guid DeviceId, string Metric, string JsonValue, string? Unit, DateTimeOffset Ts);

    /// <summary>Upserts the changes in one statement; adds the devices whose state changed to <paramref name="touched"/>.</summary>
    public static async Task UpsertAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IEnumerable<Change> changes, HashSet<Guid> touched,
        CancellationToken cancellationToken)
    {
        var valid = changes.Where(c => c.Metric.Length is > 0 and <= 200).ToList();
        if (valid.Count == 0)
        {
            return;
        }
        await using var upsert = new NpgsqlCommand(Upsert, connection, transaction)
        {
            Parameters =
            {
                new() { Value = valid.Select(c => c.HomeId).ToArray() },
                new() { Value = valid.Select(c => c.DeviceId).ToArray() },
                new() { Value = valid.Select(c => c.Metric).ToArray() },
                new() { Value = valid.Select(c => c.JsonValue).ToArray() },
                new() { Value = valid.Select(c => c.Unit).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text },
                new() { Value = valid.Select(c => c.Ts.UtcDateTime).ToArray() },
            },
        };
        await using var reader = await upsert.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            touched.Add(reader.GetGuid(0));
        }
    }
}

/// <summary>
/// Projects the latest values the Readings service committed (<see cref="ReadingsStored"/>) into <c>device_state</c> and then into
/// Redis: a batch of events in one transaction with their inbox rows, then one refresh of the devices it touched. Readings publishes
/// one event per home and batch it stores, so under load this is most of what Devices does. A redelivered event projects its devices
/// again, so a Redis failure after the commit heals on the retry.
/// </summary>
internal sealed class ReadingsStoredHandler(NpgsqlDataSource db, DeviceStateView view) : IIntegrationEventBatchHandler<ReadingsStored>
{
    public async Task HandleAsync(IReadOnlyList<ReadingsStored> events, CancellationToken cancellationToken)
    {
        var touched = new HashSet<Guid>();
        await using (var connection = await db.OpenConnectionAsync(cancellationToken))
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            // The handler's name is its inbox key, as it was when it took one event at a time.
            var fresh = await PostgresInbox.RecordAsync(connection, transaction, events.Select(e => e.Id), nameof(ReadingsStoredHandler), cancellationToken);
            await DeviceStateStore.UpsertAsync(connection, transaction, events.Where(e => fresh.Contains(e.Id)).SelectMany(Changes), touched, cancellationToken);
            foreach (var duplicate in events.Where(e => !fresh.Contains(e.Id)))
            {
                touched.UnionWith(Changes(duplicate).Select(c => c.DeviceId));
            }
            await transaction.CommitAsync(cancellationToken);
        }
        await view.RefreshAsync(touched, cancellationToken);
    }

    private static IEnumerable<DeviceStateStore.Change> Changes(ReadingsStored @event) =>
        (@event.Latest ?? []).Where(r => r?.Metric is not null && double.IsFinite(r.Value))
            .Select(r => new DeviceStateStore.Change(@event.HomeId, r.DeviceId, r.Metric, JsonSerializer.Serialize(r.Value, DeviceStateStore.Json), r.Unit, r.Timestamp));
}

/// <summary>
/// Upserts the state and attributes a hub reported (<see cref="DeviceStateChanged"/>) inside the inbox transaction, then projects the
/// device into Redis after the commit. A redelivery projects again.
/// </summary>
internal sealed class DeviceStateChangedHandler(NpgsqlDataSource db, DeviceStateView view)
    : PostgresEventHandler<DeviceStateChanged>(db), IIntegrationEventHandler<DeviceStateChanged>
{
    private readonly HashSet<Guid> _touched = [];

    async Task IIntegrationEventHandler<DeviceStateChanged>.HandleAsync(DeviceStateChanged @event, CancellationToken cancellationToken)
    {
        await base.HandleAsync(@event, cancellationToken);
        await view.RefreshAsync(_touched, cancellationToken);
    }

    protected override Task OnDuplicateAsync(DeviceStateChanged @event, CancellationToken cancellationToken)
    {
        _touched.Add(@event.DeviceId);
        return Task.CompletedTask;
    }

    protected override Task HandleAsync(DeviceStateChanged @event, NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken) =>
        DeviceStateStore.UpsertAsync(connection, transaction, Changes(@event), _touched, cancellationToken);

    private static IEnumerable<DeviceStateStore.Change> Changes(DeviceStateChanged @event)
    {
        if (@event.State is not null)
        {
            yield return new DeviceStateStore.Change(@event.HomeId, @event.DeviceId, "state", JsonSerializer.Serialize(@event.State, DeviceStateStore.Json), null, @event.OccurredAt);
        }
        foreach (var (name, value) in @event.Attributes ?? new Dictionary<string, string>())
        {
            yield return new DeviceStateStore.Change(@event.HomeId, @event.DeviceId, name, JsonSerializer.Serialize(value, DeviceStateStore.Json), null, @event.OccurredAt);
        }
    }
}
