using System.Globalization;
using HomeIQ.Automations.Domain;
using HomeIQ.Contracts;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace HomeIQ.Automations.Infrastructure;

/// <summary>
/// What happens by the clock, every <see cref="AutomationsOptions.SweepInterval"/>: steps whose deadline passed without a reply time out
/// (and their run compensates), reading triggers whose duration passed without a new reading fire, and due schedules fire. Rows are
/// taken with <c>FOR UPDATE SKIP LOCKED</c>, one transaction each, so replicas and restarts never do one twice.
/// </summary>
internal sealed partial class AutomationsSweep(NpgsqlDataSource db, Runs runs, RuleEngine engine, IOptions<AutomationsOptions> options, TimeProvider clock,
    ILogger<AutomationsSweep> logger) : BackgroundService
{
    private const int Limit = 100;
    private readonly AutomationsOptions _options = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.SweepInterval, clock);
        do
        {
            try
            {
                while (await TimeOutStepAsync(stoppingToken).ConfigureAwait(false))
                {
                }
                while (await FireDueTrackerAsync(stoppingToken).ConfigureAwait(false))
                {
                }
                while (await FireDueScheduleAsync(stoppingToken).ConfigureAwait(false))
                {
                }
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException && !stoppingToken.IsCancellationRequested)
            {
                LogSweepFailed(logger, ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    /// <summary>Times out one overdue step; false when there is none.</summary>
    internal async Task<bool> TimeOutStepAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        await using var find = new NpgsqlCommand("""
            SELECT command_id FROM run_steps WHERE status = 'sent' AND deadline < $1 ORDER BY deadline LIMIT 1 FOR UPDATE SKIP LOCKED
            """, connection, transaction) { Parameters = { Now() } };
        if (await find.ExecuteScalarAsync(ct).ConfigureAwait(false) is not Guid commandId)
        {
            return false;
        }
        var reason = string.Create(CultureInfo.InvariantCulture, $"No reply within {_options.CommandTimeout.TotalSeconds:0.#} s.");
        await runs.CompleteAsync(connection, transaction, commandId, CommandOutcome.TimedOut, reason, null, null, ct).ConfigureAwait(false);
        await transaction.CommitAsync(ct).ConfigureAwait(false);
        return true;
    }

    /// <summary>Fires one reading trigger whose condition has held for its duration by the clock; false when there is none.</summary>
    internal async Task<bool> FireDueTrackerAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        Guid ruleId, homeId;
        string definition;
        await using (var find = new NpgsqlCommand("""
                         SELECT t.rule_id, r.home_id, r.definition::text FROM rule_trackers t JOIN rules r ON r.id = t.rule_id
                         WHERE t.due_at <= $1 AND t.phase = 1 ORDER BY t.due_at LIMIT 1 FOR UPDATE OF t SKIP LOCKED
                         """, connection, transaction) { Parameters = { Now() } })
        {
            await using var reader = await find.ExecuteReaderAsync(ct).ConfigureAwait(false);
            if (!await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                return false;
            }
            (ruleId, homeId, definition) = (reader.GetGuid(0), reader.GetGuid(1), reader.GetString(2));
        }
        await using (var fired = new NpgsqlCommand("UPDATE rule_trackers SET phase = 2, due_at = NULL WHERE rule_id = $1", connection, transaction)
                     { Parameters = { Runs.P(ruleId) } })
        {
            await fired.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        if (RuleEngine.Compile(ruleId, homeId, definition) is { Enabled: true, Trigger: ReadingTrigger trigger } rule)
        {
            await engine.FireAsync(connection, transaction, rule, ReadingTriggers.Describe(trigger, null), ct).ConfigureAwait(false);
        }
        await transaction.CommitAsync(ct).ConfigureAwait(false);
        return true;
    }

    /// <summary>Fires one due schedule (or skips it, when it is older than the grace) and moves it to its next time; false when none is due.</summary>
    internal async Task<bool> FireDueScheduleAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        Guid ruleId, homeId;
        string definition;
        DateTimeOffset due;
        await using (var find = new NpgsqlCommand("""
                         SELECT s.rule_id, r.home_id, r.definition::text, s.next_due FROM rule_schedules s JOIN rules r ON r.id = s.rule_id
                         WHERE s.next_due <= $1 AND r.enabled ORDER BY s.next_due LIMIT 1 FOR UPDATE OF s SKIP LOCKED
                         """, connection, transaction) { Parameters = { Now() } })
        {
            await using var reader = await find.ExecuteReaderAsync(ct).ConfigureAwait(false);
            if (!await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                return false;
            }
            (ruleId, homeId, definition, due) = (reader.GetGuid(0), reader.GetGuid(1), reader.GetString(2), new DateTimeOffset(reader.GetDateTime(3), TimeSpan.Zero));
        }
        var now = clock.GetUtcNow();
        var rule = RuleEngine.Compile(ruleId, homeId, definition);
        if (rule is not { Trigger: ScheduleTrigger schedule })
        {
            await using var drop = new NpgsqlCommand("DELETE FROM rule_schedules WHERE rule_id = $1", connection, transaction) { Parameters = { Runs.P(ruleId) } };
            await drop.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        else
        {
            if (now - due <= _options.ScheduleGrace)
            {
                await engine.FireAsync(connection, transaction, rule, string.Create(CultureInfo.InvariantCulture,
                    $"schedule {schedule.Schedule.At:HH\\:mm} {schedule.Schedule.Zone.Id}"), ct).ConfigureAwait(false);
            }
            else
            {
                LogScheduleSkipped(logger, ruleId, due);
            }
            await Schedules.SetAsync(connection, transaction, ruleId, schedule.Schedule.Next(now), ct).ConfigureAwait(false);
        }
        await transaction.CommitAsync(ct).ConfigureAwait(false);
        return true;
    }

    private NpgsqlParameter Now() => new() { Value = clock.GetUtcNow().UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz };

    [LoggerMessage(Level = LogLevel.Warning, Message = "The automations sweep failed; it tries again on the next tick")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rule {RuleId}'s schedule was due at {Due} while Automations was not running; skipped, not run late")]
    private static partial void LogScheduleSkipped(ILogger logger, Guid ruleId, DateTimeOffset due);
}

/// <summary>When each schedule rule is next due.</summary>
internal static class Schedules
{
    public static async Task SetAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid ruleId, DateTimeOffset next, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("""
            INSERT INTO rule_schedules (rule_id, next_due) VALUES ($1, $2) ON CONFLICT (rule_id) DO UPDATE SET next_due = excluded.next_due
            """, connection, transaction) { Parameters = { Runs.P(ruleId), new() { Value = next.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz } } };
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }
}
