using System.Globalization;
using System.Text.Json;

namespace HomeIQ.Automations.Domain;

/// <summary>What a step of a run is doing: forward (the scene's command) or compensating (putting a device back).</summary>
public enum StepPhase
{
    /// <summary>A step of the scene or rule.</summary>
    Do,
    /// <summary>Undoes a completed step: the device back to the state it had before.</summary>
    Undo,
}

/// <summary>Where one step is.</summary>
public enum StepStatus
{
    /// <summary>Not sent yet.</summary>
    Pending,
    /// <summary>Sent; waiting for the reply until the deadline.</summary>
    Sent,
    /// <summary>The device did it.</summary>
    Succeeded,
    /// <summary>The hub or Home Assistant answered with an error, or nothing reaches the device.</summary>
    Failed,
    /// <summary>No reply by the deadline.</summary>
    TimedOut,
    /// <summary>Not sent: an undo step whose device's previous state is unknown, or a step after a failure.</summary>
    Skipped,
}

/// <summary>Where a run is.</summary>
public enum RunStatus
{
    /// <summary>Steps are being sent one after the other.</summary>
    Running,
    /// <summary>Every step succeeded.</summary>
    Succeeded,
    /// <summary>A step failed; the completed ones are being put back in reverse order.</summary>
    Compensating,
    /// <summary>A step failed and every completed step was put back.</summary>
    Compensated,
    /// <summary>A step failed and at least one completed step could not be put back.</summary>
    Failed,
}

/// <summary>A step as the saga sees it.</summary>
public sealed record SagaStep(StepPhase Phase, int Position, StepStatus Status);

/// <summary>What to do next with a run.</summary>
public abstract record SagaDecision
{
    /// <summary>Send this step's command.</summary>
    public sealed record Send(SagaStep Step) : SagaDecision;

    /// <summary>A forward step failed: create undo steps for the succeeded forward steps (the last first), then go on.</summary>
    public sealed record Compensate(IReadOnlyList<int> SucceededPositionsLastFirst) : SagaDecision;

    /// <summary>The run is over with this status.</summary>
    public sealed record Finish(RunStatus Status) : SagaDecision;

    /// <summary>A step is still waiting for its reply.</summary>
    public sealed record Wait : SagaDecision;
}

/// <summary>
/// The scene saga's rules, without storage: steps run one at a time in order; when one fails or times out, the steps that succeeded
/// are undone one at a time, the last first; an undo that fails is recorded and the others still run.
/// </summary>
public static class Saga
{
    /// <summary>The next thing to do, given every step of the run.</summary>
    public static SagaDecision Next(IReadOnlyList<SagaStep> steps)
    {
        if (steps.Any(s => s.Status == StepStatus.Sent))
        {
            return new SagaDecision.Wait();
        }
        var forward = steps.Where(s => s.Phase == StepPhase.Do).OrderBy(s => s.Position).ToList();
        var undo = steps.Where(s => s.Phase == StepPhase.Undo).OrderBy(s => s.Position).ToList();
        var failed = forward.Any(s => s.Status is StepStatus.Failed or StepStatus.TimedOut);
        if (!failed)
        {
            return forward.FirstOrDefault(s => s.Status == StepStatus.Pending) is { } next
                ? new SagaDecision.Send(next)
                : new SagaDecision.Finish(RunStatus.Succeeded);
        }
        if (undo.Count == 0 && forward.Any(s => s.Status == StepStatus.Succeeded))
        {
            return new SagaDecision.Compensate([.. forward.Where(s => s.Status == StepStatus.Succeeded).Select(s => s.Position).Reverse()]);
        }
        if (undo.FirstOrDefault(s => s.Status == StepStatus.Pending) is { } pendingUndo)
        {
            return new SagaDecision.Send(pendingUndo);
        }
        return new SagaDecision.Finish(undo.All(s => s.Status == StepStatus.Succeeded) ? RunStatus.Compensated : RunStatus.Failed);
    }

    /// <summary>
    /// The command that puts a device back to <paramref name="state"/> with <paramref name="attributes"/>: on and off as such (on with
    /// its numeric attributes, such as brightness), any other state as a <c>set</c>; null when the state before is unknown.
    /// </summary>
    public static (string Action, Dictionary<string, JsonElement> Parameters)? Restore(string? state, IReadOnlyDictionary<string, string>? attributes)
    {
        var numeric = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var (name, value) in attributes ?? new Dictionary<string, string>())
        {
            if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number))
            {
                numeric[name] = JsonSerializer.SerializeToElement(number);
            }
        }
        return state switch
        {
            null or "" or "unknown" or "unavailable" => null,
            "off" => ("turn_off", []),
            "on" => ("turn_on", numeric),
            _ => ("set", new Dictionary<string, JsonElement>(numeric) { ["state"] = JsonSerializer.SerializeToElement(state) }),
        };
    }
}
