using System.Text.Json;
using HomeIQ.Automations.Domain;
using HomeIQ.Contracts;
using HomeIQ.EventBus.Postgres;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace HomeIQ.Automations.Infrastructure;

/// <summary>
/// Loads rules and fires them: checks the conditions, sends the notify actions through the outbox, and starts a run with the command
/// actions and the steps of the scenes the rule names, in order. All in the caller's transaction, so a trigger's state, the run and its
/// first command commit together.
/// </summary>
internal sealed partial class RuleEngine(Runs runs, Outbox outbox, TimeProvider clock, ILogger<RuleEngine> logger)
{
    /// <summary>The enabled rules of some homes with one kind of trigger (and, when given, on one device).</summary>
    public static async Task<List<Rule>> LoadAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid[] homeIds, string triggerType,
        Guid? deviceId, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("""
            SELECT id, home_id, definition::text FROM rules
            WHERE home_id = ANY($1) AND trigger_type = $2 AND enabled AND ($3::uuid IS NULL OR device_id IS NULL OR device_id = $3)
            """, connection, transaction) { Parameters = { Runs.P(homeIds), Runs.P(triggerType), Runs.Uuid(deviceId) } };
        var rules = new List<Rule>();
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            if (Compile(reader.GetGuid(0), reader.GetGuid(1), reader.GetString(2)) is { } rule)
            {
                rules.Add(rule);
            }
        }
        return rules;
    }

    /// <summary>A stored definition, checked again (it was valid when saved).</summary>
    public static Rule? Compile(Guid id, Guid homeId, string definition) =>
        new DefinitionErrors().Rule(id, homeId, JsonSerializer.Deserialize<RuleDefinition>(definition, JsonSerializerOptions.Web));

    /// <summary>The trigger type a rule is indexed under.</summary>
    public static string TypeOf(Trigger trigger) => trigger switch
    {
        ReadingTrigger => "reading",
        AnomalyTrigger => "anomaly",
        StateTrigger => "state",
        _ => "schedule",
    };

    /// <summary>The device a rule's trigger watches, when it watches one.</summary>
    public static Guid? DeviceOf(Trigger trigger) => trigger switch
    {
        ReadingTrigger r => r.DeviceId,
        AnomalyTrigger a => a.DeviceId,
        StateTrigger s => s.DeviceId,
        _ => null,
    };

    /// <summary>Fires <paramref name="rule"/> if its conditions hold; returns the run's id, or null when a condition did not hold.</summary>
    public async Task<Guid?> FireAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Rule rule, string cause, CancellationToken ct)
    {
        foreach (var condition in rule.Conditions)
        {
            var holds = condition switch
            {
                TimeCondition time => time.Holds(clock.GetUtcNow()),
                StateCondition state => (await DeviceStates.GetAsync(connection, transaction, state.DeviceId, ct).ConfigureAwait(false))?.State == state.Is,
                _ => false,
            };
            if (!holds)
            {
                LogConditionFailed(logger, rule.Id, rule.Name);
                return null;
            }
        }
        var steps = new List<StepCommand>();
        string? failure = null;
        foreach (var action in rule.Actions)
        {
            switch (action)
            {
                case CommandAction command:
                    steps.Add(new StepCommand(command.DeviceId, command.Action, command.Parameters));
                    break;
                case SceneAction scene:
                    if (await SceneStepsAsync(connection, transaction, rule.HomeId, scene.SceneId, ct).ConfigureAwait(false) is { } sceneSteps)
                    {
                        steps.AddRange(sceneSteps.Steps);
                    }
                    else
                    {
                        failure ??= $"Scene {scene.SceneId} no longer exists.";
                    }
                    break;
                case NotifyAction notify:
                    await outbox.AddAsync(connection, transaction, new AutomationNotificationRequested(rule.Id, rule.HomeId, notify.Title, notify.Message), ct)
                        .ConfigureAwait(false);
                    break;
            }
        }
        LogFired(logger, rule.Id, rule.Name, cause);
        return await runs.StartAsync(connection, transaction, rule.HomeId, "rule", rule.Id, rule.Name, cause, steps, ct, failure).ConfigureAwait(false);
    }

    /// <summary>A scene's name and steps, or null when the home has no such scene.</summary>
    public static async Task<(string Name, List<StepCommand> Steps)?> SceneStepsAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid homeId,
        Guid sceneId, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("SELECT name, steps::text FROM scenes WHERE home_id = $1 AND id = $2", connection, transaction)
        {
            Parameters = { Runs.P(homeId), Runs.P(sceneId) },
        };
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        if (!await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            return null;
        }
        var steps = JsonSerializer.Deserialize<List<ActionDefinition>>(reader.GetString(1), JsonSerializerOptions.Web) ?? [];
        return (reader.GetString(0), [.. steps.Select(s => new StepCommand(s.DeviceId!.Value, s.Action!, s.Parameters ?? new Dictionary<string, JsonElement>()))]);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Rule {RuleId} ({Name}) fired: {Cause}")]
    private static partial void LogFired(ILogger logger, Guid ruleId, string name, string cause);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Rule {RuleId} ({Name}) triggered, but a condition did not hold")]
    private static partial void LogConditionFailed(ILogger logger, Guid ruleId, string name);
}
