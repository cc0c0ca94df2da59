using System.Text.Json;
using HomeIQ.Contracts;
using HomeIQ.EventBus;
using HomeIQ.EventBus.Postgres;
using Npgsql;
using NpgsqlTypes;

namespace HomeIQ.Devices.Infrastructure;

/// <summary>
/// Upserts <c>device_state</c> (newest timestamp wins; unknown devices and devices of another home are ignored) inside the inbox
/// transaction, then, after the commit, projects the devices it touched into Redis. A redelivery projects again, so a Redis
/// failure after the commit heals on the retry.
/// </summary>
internal abstract class DeviceStateHandler<TEvent>(NpgsqlDataSource db, DeviceStateView view)
    : PostgresEventHandler<TEvent>(db), IIntegrationEventHandler<TEvent> where TEvent : IntegrationEvent
{
    private const string Upsert = """
        INSERT INTO device_state (device_id, metric, value, unit, ts)
        SELECT r.device_id, r.metric, r.value::jsonb, r.unit, r.ts
        FROM (SELECT DISTINCT ON (device_id, metric) *
              FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamptz[]) AS u(device_id, metric, value, unit, ts)
              ORDER BY device_id, metric, ts DESC) r
        JOIN devices d ON d.id = r.device_id AND d.home_id = $6
        ON CONFLICT (device_id, metric) DO UPDATE SET value = excluded.value, unit = excluded.unit, ts = excluded.ts
        WHERE device_state.ts < excluded.ts
        RETURNING device_id
        """;

    private HashSet<Guid> _touched = [];

    protected static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    protected sealed record Change(Guid DeviceId, string Metric, string JsonValue, string? Unit, DateTimeOffset Ts);

    protected abstract Guid HomeId(TEvent @event);

    protected abstract IEnumerable<Change> Changes(TEvent @event);

    async Task IIntegrationEventHandler<TEvent>.HandleAsync(TEvent @event, CancellationToken cancellationToken)
    {
        await base.HandleAsync(@event, cancellationToken);
        await view.RefreshAsync(_touched, cancellationToken);
    }

    protected override Task OnDuplicateAsync(TEvent @event, CancellationToken cancellationToken)
    {
        _touched = [.. Changes(@event).Select(c => c.DeviceId)];
        return Task.CompletedTask;
    }

    protected override async Task HandleAsync(TEvent @event, NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        var changes = Changes(@event).Where(c => c.Metric.Length is > 0 and <= 200).ToList();
        if (changes.Count == 0)
        {
            return;
        }
        await using var upsert = new NpgsqlCommand(Upsert, connection, transaction)
        {
            Parameters =
            {
                new() { Value = changes.Select(c => c.DeviceId).ToArray() },
                new() { Value = changes.Select(c => c.Metric).ToArray() },
                new() { Value = changes.Select(c => c.JsonValue).ToArray() },
                new() { Value = changes.Select(c => c.Unit).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text },
                new() { Value = changes.Select(c => c.Ts.UtcDateTime).ToArray() },
                new() { Value = HomeId(@event) },
            },
        };
        await using var reader = await upsert.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            _touched.Add(reader.GetGuid(0));
        }
    }
}

/// <summary>Projects the latest values the Readings service committed (<see cref="ReadingsStored"/>) into the state view.</summary>
internal sealed class ReadingsStoredHandler(NpgsqlDataSource db, DeviceStateView view) : DeviceStateHandler<ReadingsStored>(db, view)
{
    protected override Guid HomeId(ReadingsStored @event) => @event.HomeId;

    protected override IEnumerable<Change> Changes(ReadingsStored @event) =>
        (@event.Latest ?? []).Where(r => r?.Metric is not null && double.IsFinite(r.Value))
            .Select(r => new Change(r.DeviceId, r.Metric, JsonSerializer.Serialize(r.Value, Json), r.Unit, r.Timestamp));
}

internal sealed class DeviceStateChangedHandler(NpgsqlDataSource db, DeviceStateView view) : DeviceStateHandler<DeviceStateChanged>(db, view)
{
    protected override Guid HomeId(DeviceStateChanged @event) => @event.HomeId;

    protected override IEnumerable<Change> Changes(DeviceStateChanged @event)
    {
        if (@event.State is not null)
        {
            yield return new Change(@event.DeviceId, "state", JsonSerializer.Serialize(@event.State, Json), null, @event.OccurredAt);
        }
        foreach (var (name, value) in @event.Attributes ?? new Dictionary<string, string>())
        {
            yield return new Change(@event.DeviceId, name, JsonSerializer.Serialize(value, Json), null, @event.OccurredAt);
        }
    }
}
