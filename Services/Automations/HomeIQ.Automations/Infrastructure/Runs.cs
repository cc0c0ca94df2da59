using System.Text.Json;
using HomeIQ.Automations.Domain;
using HomeIQ.Contracts;
using HomeIQ.EventBus;
using HomeIQ.EventBus.Postgres;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace HomeIQ.Automations.Infrastructure;

/// <summary>A command step as a run is started with.</summary>
internal sealed record StepCommand(Guid DeviceId, string Action, IReadOnlyDictionary<string, JsonElement> Parameters);

/// <summary>
/// The saga coordinator. Every change happens inside the caller's transaction, with the run's row locked: starting a run, a step's reply
/// or its deadline passing, each followed by <see cref="AdvanceAsync"/>, which sends the next command through the outbox (so a command
/// is published exactly when its step is recorded as sent), starts compensation, or finishes the run. A killed Automations loses
/// nothing: the outbox still publishes, replies wait on its durable queue, and the sweep times out what got no reply.
/// </summary>
internal sealed class Runs(Outbox outbox, IOptions<AutomationsOptions> options, IOptions<EventBusOptions> bus, TimeProvider clock)
{
    private static readonly JsonSerializerOptions Json = JsonSerializerOptions.Web;
    private readonly AutomationsOptions _options = options.Value;
    private readonly string _replyTo = bus.Value.QueueName;

    /// <summary>Records a run with its steps and sends the first; returns its id.</summary>
    public async Task<Guid> StartAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid homeId, string source, Guid sourceId, string name,
        string cause, IReadOnlyList<StepCommand> steps, CancellationToken ct, string? failure = null)
    {
        var runId = Guid.CreateVersion7();
        await using var batch = new NpgsqlBatch(connection, transaction);
        batch.BatchCommands.Add(Command("INSERT INTO runs (id, home_id, source, source_id, name, cause, status) VALUES ($1, $2, $3, $4, $5, $6, 'running')",
            runId, homeId, source, sourceId, name, cause));
        for (var i = 0; i < steps.Count; i++)
        {
            batch.BatchCommands.Add(Command("""
                INSERT INTO run_steps (run_id, phase, position, device_id, action, parameters, status) VALUES ($1, 'do', $2, $3, $4, $5::jsonb, 'pending')
                """, runId, i, steps[i].DeviceId, steps[i].Action, JsonSerializer.Serialize(steps[i].Parameters, Json)));
        }
        await batch.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        if (failure is not null)
        {
            await FinishAsync(connection, transaction, runId, RunStatus.Failed, failure, ct).ConfigureAwait(false);
            return runId;
        }
        await AdvanceAsync(connection, transaction, runId, ct).ConfigureAwait(false);
        return runId;
    }

    /// <summary>
    /// Completes the step a command belongs to and advances its run. A reply for a step that is not waiting (a redelivery, a reply
    /// after the deadline, an unknown id) changes nothing; returns false then.
    /// </summary>
    public async Task<bool> CompleteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid commandId, CommandOutcome outcome, string? reason,
        string? state, IReadOnlyDictionary<string, string>? attributes, CancellationToken ct)
    {
        // The run's row is the saga's lock: one reply, deadline or start at a time per run.
        await using (var lockRun = new NpgsqlCommand(
                         "SELECT 1 FROM run_steps s JOIN runs r ON r.id = s.run_id WHERE s.command_id = $1 FOR UPDATE OF r", connection, transaction)
                     { Parameters = { P(commandId) } })
        {
            if (await lockRun.ExecuteScalarAsync(ct).ConfigureAwait(false) is null)
            {
                return false;
            }
        }
        var status = outcome switch
        {
            CommandOutcome.Succeeded => "succeeded",
            CommandOutcome.TimedOut => "timed_out",
            _ => "failed",
        };
        await using var update = new NpgsqlCommand("""
            UPDATE run_steps SET status = $2, reason = $3, completed_at = now() WHERE command_id = $1 AND status = 'sent'
            RETURNING run_id, device_id, (SELECT home_id FROM runs WHERE id = run_id)
            """, connection, transaction) { Parameters = { P(commandId), P(status), P(outcome == CommandOutcome.Succeeded ? null : reason ?? outcome.ToString()) } };
        Guid runId, deviceId, homeId;
        await using (var reader = await update.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            if (!await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                return false;
            }
            (runId, deviceId, homeId) = (reader.GetGuid(0), reader.GetGuid(1), reader.GetGuid(2));
        }
        if (outcome == CommandOutcome.Succeeded && state is not null)
        {
            await DeviceStates.SetAsync(connection, transaction, homeId, deviceId, state, attributes, clock.GetUtcNow(), ct).ConfigureAwait(false);
        }
        await AdvanceAsync(connection, transaction, runId, ct).ConfigureAwait(false);
        return true;
    }

    /// <summary>Does what the saga says next, until it waits for a reply or the run is over.</summary>
    public async Task AdvanceAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid runId, CancellationToken ct)
    {
        while (true)
        {
            var steps = await StepsAsync(connection, transaction, runId, ct).ConfigureAwait(false);
            switch (Saga.Next([.. steps.Select(s => s.Step)]))
            {
                case SagaDecision.Send { Step: var step }:
                    await SendAsync(connection, transaction, runId, steps.Single(s => s.Step == step), ct).ConfigureAwait(false);
                    return;
                case SagaDecision.Compensate { SucceededPositionsLastFirst: var positions }:
                    await CompensateAsync(connection, transaction, runId, steps, positions, ct).ConfigureAwait(false);
                    break;
                case SagaDecision.Finish { Status: var status }:
                    var failed = steps.FirstOrDefault(s => s.Step is { Phase: StepPhase.Do, Status: StepStatus.Failed or StepStatus.TimedOut });
                    await FinishAsync(connection, transaction, runId, status, failed?.Reason, ct).ConfigureAwait(false);
                    return;
                default:
                    return;
            }
        }
    }

    private sealed record StoredStep(SagaStep Step, Guid DeviceId, string Action, string Parameters, string? Reason, string? PreviousState, string? PreviousAttributes);

    private static async Task<List<StoredStep>> StepsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid runId, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("""
            SELECT phase, position, status, device_id, action, parameters::text, reason, previous_state, previous_attributes::text
            FROM run_steps WHERE run_id = $1 ORDER BY phase, position
            """, connection, transaction) { Parameters = { P(runId) } };
        var steps = new List<StoredStep>();
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            string? Text(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
            steps.Add(new(new SagaStep(reader.GetString(0) == "do" ? StepPhase.Do : StepPhase.Undo, reader.GetInt32(1), StepNames.Parse(reader.GetString(2))),
                reader.GetGuid(3), reader.GetString(4), reader.GetString(5), Text(6), Text(7), Text(8)));
        }
        return steps;
    }

    private async Task SendAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid runId, StoredStep step, CancellationToken ct)
    {
        var commandId = Guid.CreateVersion7();
        var deadline = clock.GetUtcNow() + _options.CommandTimeout;
        var homeId = await HomeOfAsync(connection, transaction, runId, ct).ConfigureAwait(false);
        // A forward step remembers the device's state before it, which is what its compensation puts back.
        var previous = step.Step.Phase == StepPhase.Do ? await DeviceStates.GetAsync(connection, transaction, step.DeviceId, ct).ConfigureAwait(false) : null;
        await using (var update = new NpgsqlCommand("""
                         UPDATE run_steps SET status = 'sent', command_id = $4, deadline = $5, sent_at = now(),
                             previous_state = COALESCE($6, previous_state), previous_attributes = COALESCE($7::jsonb, previous_attributes)
                         WHERE run_id = $1 AND phase = $2 AND position = $3
                         """, connection, transaction)
                     {
                         Parameters =
                         {
                             P(runId), P(step.Step.Phase == StepPhase.Do ? "do" : "undo"), P(step.Step.Position), P(commandId),
                             new() { Value = deadline.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz }, P(previous?.State),
                             P(previous?.Attributes is { } a ? JsonSerializer.Serialize(a, Json) : null),
                         },
                     })
        {
            await update.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        var parameters = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(step.Parameters, Json);
        await outbox.AddAsync(connection, transaction,
            new DeviceCommandRequested(commandId, homeId, step.DeviceId, step.Action, parameters, deadline, _replyTo), ct).ConfigureAwait(false);
    }

    private static async Task CompensateAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid runId, List<StoredStep> steps,
        IReadOnlyList<int> positions, CancellationToken ct)
    {
        await using var batch = new NpgsqlBatch(connection, transaction);
        batch.BatchCommands.Add(Command("UPDATE run_steps SET status = 'skipped', reason = 'An earlier step failed.' WHERE run_id = $1 AND phase = 'do' AND status = 'pending'", runId));
        batch.BatchCommands.Add(Command("UPDATE runs SET status = 'compensating' WHERE id = $1", runId));
        for (var i = 0; i < positions.Count; i++)
        {
            var done = steps.Single(s => s.Step.Phase == StepPhase.Do && s.Step.Position == positions[i]);
            var attributes = done.PreviousAttributes is { } a ? JsonSerializer.Deserialize<Dictionary<string, string>>(a, Json) : null;
            var restore = Saga.Restore(done.PreviousState, attributes);
            batch.BatchCommands.Add(Command("""
                INSERT INTO run_steps (run_id, phase, position, device_id, action, parameters, status, reason) VALUES ($1, 'undo', $2, $3, $4, $5::jsonb, $6, $7)
                """, runId, i, done.DeviceId, restore?.Action ?? "none", JsonSerializer.Serialize(restore?.Parameters ?? [], Json),
                restore is null ? "skipped" : "pending", restore is null ? "The device's state before the scene is unknown, so it was left as it is." : null));
        }
        await batch.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    private async Task FinishAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid runId, RunStatus status, string? reason, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("""
            UPDATE runs SET status = $2, reason = $3, finished_at = now() WHERE id = $1 RETURNING home_id, name
            """, connection, transaction) { Parameters = { P(runId), P(StepNames.Of(status)), P(reason) } };
        Guid homeId;
        string name;
        await using (var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            await reader.ReadAsync(ct).ConfigureAwait(false);
            (homeId, name) = (reader.GetGuid(0), reader.GetString(1));
        }
        if (status != RunStatus.Succeeded)
        {
            await outbox.AddAsync(connection, transaction,
                new AutomationRunFailed(runId, homeId, name, reason ?? "A step failed.", status == RunStatus.Compensated), ct).ConfigureAwait(false);
        }
    }

    private static async Task<Guid> HomeOfAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid runId, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("SELECT home_id FROM runs WHERE id = $1", connection, transaction) { Parameters = { P(runId) } };
        return (Guid)(await command.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
    }

    private static NpgsqlBatchCommand Command(string sql, params object?[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in values)
        {
            command.Parameters.Add(P(value));
        }
        return command;
    }

    internal static NpgsqlParameter P(object? value) => new() { Value = value ?? DBNull.Value };

    /// <summary>A command on its own connection from <paramref name="db"/>, with <paramref name="values"/> as $1, $2…</summary>
    internal static NpgsqlCommand Sql(NpgsqlDataSource db, string sql, params object?[] values)
    {
        var command = db.CreateCommand(sql);
        foreach (var value in values)
        {
            command.Parameters.Add(P(value));
        }
        return command;
    }

    internal static NpgsqlParameter Uuid(Guid? value) => new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid };
}

/// <summary>Status names as stored and shown.</summary>
internal static class StepNames
{
    public static StepStatus Parse(string name) => name switch
    {
        "pending" => StepStatus.Pending,
        "sent" => StepStatus.Sent,
        "succeeded" => StepStatus.Succeeded,
        "failed" => StepStatus.Failed,
        "timed_out" => StepStatus.TimedOut,
        _ => StepStatus.Skipped,
    };

    public static string Of(RunStatus status) => status switch
    {
        RunStatus.Running => "running",
        RunStatus.Succeeded => "succeeded",
        RunStatus.Compensating => "compensating",
        RunStatus.Compensated => "compensated",
        _ => "failed",
    };
}
