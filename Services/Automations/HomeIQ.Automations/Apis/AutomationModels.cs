using System.Text.Json;
using HomeIQ.Automations.Domain;
using HomeIQ.ServiceDefaults.Errors;

namespace HomeIQ.Automations.Apis;

/// <summary>A stored rule, as it was written, with when a schedule rule runs next.</summary>
public sealed record RuleDto(Guid Id, Guid HomeId, string Name, bool Enabled, TriggerDefinition Trigger, IReadOnlyList<ConditionDefinition> Conditions,
    IReadOnlyList<ActionDefinition> Actions, DateTimeOffset? NextRunAt, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>A scene: device commands run in order as one saga; <paramref name="Steps"/> are command actions (type may be left out).</summary>
public sealed record SceneRequest(string? Name, IReadOnlyList<ActionDefinition>? Steps);

/// <summary>A stored scene.</summary>
public sealed record SceneDto(Guid Id, Guid HomeId, string Name, IReadOnlyList<ActionDefinition> Steps, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>
/// A run of a rule or a scene. Status: running, succeeded, compensating (a step failed; the completed ones are being put back),
/// compensated (all put back), failed (some could not be put back). <paramref name="Cause"/> says what started it.
/// </summary>
public sealed record RunDto(Guid Id, Guid HomeId, string Source, Guid SourceId, string Name, string Cause, string Status, string? Reason,
    DateTimeOffset StartedAt, DateTimeOffset? FinishedAt, IReadOnlyList<StepDto>? Steps);

/// <summary>
/// One command of a run. Phase: do (the scene's step) or undo (its compensation). Status: pending, sent, succeeded, failed,
/// timed_out, skipped.
/// </summary>
public sealed record StepDto(string Phase, int Position, Guid DeviceId, string Action, JsonElement Parameters, string Status, string? Reason,
    Guid? CommandId, DateTimeOffset? SentAt, DateTimeOffset? CompletedAt);

/// <summary>A page of runs, newest first; <paramref name="Next"/> is the <c>after</c> cursor of the next page, null on the last.</summary>
public sealed record RunPage(IReadOnlyList<RunDto> Runs, string? Next);

/// <summary>Parses the runs list's query parameters.</summary>
internal sealed class RunsQuery : QueryErrors
{
    public static readonly string[] Statuses = ["running", "succeeded", "compensating", "compensated", "failed"];

    public static string CursorOf(RunDto last) => TimeIdCursorOf(last.StartedAt, last.Id);
}
