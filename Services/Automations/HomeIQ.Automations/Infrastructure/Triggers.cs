using System.Globalization;
using HomeIQ.Automations.Domain;
using HomeIQ.Contracts;
using HomeIQ.EventBus;
using HomeIQ.EventBus.Postgres;
using Npgsql;
using NpgsqlTypes;

namespace HomeIQ.Automations.Infrastructure;

/// <summary>
/// Reading triggers, on what the Readings service stored: <c>readings.stored.v1</c> carries the newest value of each device metric of
/// each stored batch, so rules react to stored data, and the hot path pays for one small event per batch rather than a fourth copy of
/// every reading. A batch touches the database only when some value is one a rule watches (one query for the rules of the batch's
/// homes); then the watched rules' trackers are locked, fed the values in timestamp order, saved, and fired rules start their runs, in
/// one transaction. A tracker ignores values not newer than its last, so a redelivered event fires nothing twice.
/// </summary>
internal sealed class ReadingTriggers(NpgsqlDataSource db, RuleEngine engine) : IIntegrationEventBatchHandler<ReadingsStored>
{
    public async Task HandleAsync(IReadOnlyList<ReadingsStored> events, CancellationToken cancellationToken)
    {
        var homes = events.Select(e => e.HomeId).Distinct().ToArray();
        await using var connection = await db.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var rules = await RuleEngine.LoadAsync(connection, null, homes, "reading", null, cancellationToken).ConfigureAwait(false);
        if (rules.Count == 0)
        {
            return;
        }
        var watching = rules.ToLookup(r => (r.HomeId, ((ReadingTrigger)r.Trigger).DeviceId, ((ReadingTrigger)r.Trigger).Metric));
        var seen = new Dictionary<Guid, List<LatestReading>>();
        foreach (var e in events)
        {
            foreach (var reading in e.Latest)
            {
                foreach (var rule in watching[(e.HomeId, reading.DeviceId, reading.Metric)])
                {
                    (seen.TryGetValue(rule.Id, out var list) ? list : seen[rule.Id] = []).Add(reading);
                }
            }
        }
        if (seen.Count == 0)
        {
            return;
        }
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var ids = seen.Keys.Order().ToArray();
        var states = await Trackers.LockAsync(connection, transaction, ids, cancellationToken).ConfigureAwait(false);
        foreach (var rule in rules.Where(r => seen.ContainsKey(r.Id)))
        {
            var trigger = (ReadingTrigger)rule.Trigger;
            var state = states[rule.Id];
            foreach (var reading in seen[rule.Id].OrderBy(r => r.Timestamp))
            {
                (state, var fire) = trigger.Tracker.Observe(state, reading.Timestamp, reading.Value);
                if (fire)
                {
                    await engine.FireAsync(connection, transaction, rule, Describe(trigger, reading.Value), cancellationToken).ConfigureAwait(false);
                }
            }
            await Trackers.SaveAsync(connection, transaction, rule.Id, state, trigger.Tracker.DueAt(state), cancellationToken).ConfigureAwait(false);
        }
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    internal static string Describe(ReadingTrigger trigger, double? value)
    {
        var seen = value is { } v ? v.ToString("0.###", CultureInfo.InvariantCulture) + " " : "";
        var held = trigger.Duration > TimeSpan.Zero ? string.Create(CultureInfo.InvariantCulture, $" for {trigger.Duration.TotalSeconds:0} s") : "";
        return string.Create(CultureInfo.InvariantCulture, $"{trigger.Metric} {seen}{(trigger.Above ? "above" : "below")} {trigger.Threshold:0.###}{held}");
    }
}

/// <summary>The persisted state of reading triggers.</summary>
internal static class Trackers
{
    /// <summary>Locks (creating when missing) the trackers of <paramref name="ruleIds"/>, in id order so concurrent batches cannot deadlock.</summary>
    public static async Task<Dictionary<Guid, TrackerState>> LockAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid[] ruleIds, CancellationToken ct)
    {
        await using (var create = new NpgsqlCommand(
                         "INSERT INTO rule_trackers (rule_id, phase) SELECT id, 0 FROM unnest($1::uuid[]) AS u(id) JOIN rules r USING (id) ORDER BY id ON CONFLICT DO NOTHING",
                         connection, transaction) { Parameters = { Runs.P(ruleIds) } })
        {
            await create.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        await using var select = new NpgsqlCommand(
            "SELECT rule_id, phase, since, last_ts FROM rule_trackers WHERE rule_id = ANY($1) ORDER BY rule_id FOR UPDATE", connection, transaction)
        {
            Parameters = { Runs.P(ruleIds) },
        };
        var states = ruleIds.ToDictionary(id => id, _ => TrackerState.Initial);
        await using var reader = await select.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            DateTimeOffset? Time(int i) => reader.IsDBNull(i) ? null : new DateTimeOffset(reader.GetDateTime(i), TimeSpan.Zero);
            states[reader.GetGuid(0)] = new TrackerState((TrackerPhase)reader.GetInt16(1), Time(2), Time(3));
        }
        return states;
    }

    public static async Task SaveAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid ruleId, TrackerState state, DateTimeOffset? dueAt,
        CancellationToken ct)
    {
        static NpgsqlParameter Time(DateTimeOffset? t) => new() { Value = (object?)t?.UtcDateTime ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz };
        await using var command = new NpgsqlCommand("UPDATE rule_trackers SET phase = $2, since = $3, last_ts = $4, due_at = $5 WHERE rule_id = $1", connection, transaction)
        {
            Parameters = { Runs.P(ruleId), Runs.P((short)state.Phase), Time(state.Since), Time(state.LastTimestamp), Time(dueAt) },
        };
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }
}

/// <summary>Anomaly triggers: rules of the anomaly's home watching its device (or any) and its kind (or any) fire, once per event (the inbox).</summary>
internal sealed class AnomalyTriggers(NpgsqlDataSource db, RuleEngine engine) : PostgresEventHandler<AnomalyDetected>(db)
{
    protected override async Task HandleAsync(AnomalyDetected @event, NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        foreach (var rule in await RuleEngine.LoadAsync(connection, transaction, [@event.HomeId], "anomaly", @event.DeviceId, cancellationToken).ConfigureAwait(false))
        {
            if (rule.Trigger is AnomalyTrigger { } t && (t.DeviceId is null || t.DeviceId == @event.DeviceId) && (t.Kind is null || t.Kind == @event.Kind))
            {
                await engine.FireAsync(connection, transaction, rule, $"anomaly: {@event.Description}", cancellationToken).ConfigureAwait(false);
            }
        }
    }
}

/// <summary>
/// Device states: records the newest state of each device, and fires the state triggers of a device that changed to their state
/// (a repeated report of the same state fires nothing; the inbox makes a redelivery harmless).
/// </summary>
internal sealed class StateTriggers(NpgsqlDataSource db, RuleEngine engine) : PostgresEventHandler<DeviceStateChanged>(db)
{
    protected override async Task HandleAsync(DeviceStateChanged @event, NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        if (@event.State is not { Length: > 0 and <= 64 })
        {
            return;
        }
        var (changed, previous) = await DeviceStates.SetAsync(connection, transaction, @event.HomeId, @event.DeviceId, @event.State, @event.Attributes,
            @event.OccurredAt, cancellationToken).ConfigureAwait(false);
        if (!changed || previous == @event.State)
        {
            return;
        }
        foreach (var rule in await RuleEngine.LoadAsync(connection, transaction, [@event.HomeId], "state", @event.DeviceId, cancellationToken).ConfigureAwait(false))
        {
            if (rule.Trigger is StateTrigger { } t && t.DeviceId == @event.DeviceId && t.To == @event.State)
            {
                await engine.FireAsync(connection, transaction, rule, $"state changed to {@event.State}", cancellationToken).ConfigureAwait(false);
            }
        }
    }
}

/// <summary>Replies to commands: complete their step and advance the run (a reply for a step no longer waiting changes nothing).</summary>
internal sealed class CommandReplies(NpgsqlDataSource db, Runs runs) : PostgresEventHandler<DeviceCommandCompleted>(db)
{
    protected override Task HandleAsync(DeviceCommandCompleted @event, NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken) =>
        runs.CompleteAsync(connection, transaction, @event.CommandId, @event.Outcome, @event.Reason, @event.State, @event.Attributes, cancellationToken);
}
