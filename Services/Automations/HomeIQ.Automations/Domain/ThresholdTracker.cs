namespace HomeIQ.Automations.Domain;

/// <summary>Where a reading trigger stands for one rule: waiting for the condition, holding it since a time, or fired and waiting to re-arm.</summary>
public enum TrackerPhase
{
    /// <summary>The condition does not hold; the next reading past the threshold starts the duration.</summary>
    Armed,
    /// <summary>The condition has held since <see cref="TrackerState.Since"/>; it fires once it has held for the rule's duration.</summary>
    Pending,
    /// <summary>Fired; it re-arms once the value is back on the other side of the threshold by the hysteresis.</summary>
    Fired,
}

/// <summary>The persisted state of a reading trigger: its phase, since when the condition holds, and the newest reading seen.</summary>
public readonly record struct TrackerState(TrackerPhase Phase, DateTimeOffset? Since, DateTimeOffset? LastTimestamp)
{
    /// <summary>A trigger that has seen nothing.</summary>
    public static TrackerState Initial => new(TrackerPhase.Armed, null, null);
}

/// <summary>
/// "Temperature above 26 °C for 10 minutes, hysteresis 0.5": the condition starts holding at the first reading above 26, and stops
/// holding only when a reading falls to 25.5 or below, so noise around the threshold neither restarts the duration nor fires twice.
/// It fires once the condition has held for the duration (by reading timestamps, or by the clock when the sensor reports only on change:
/// see <see cref="DueAt"/>), then re-arms once a reading is back at 25.5 or below. Readings not newer than the last one are ignored,
/// so a redelivered batch changes nothing.
/// </summary>
public sealed class ThresholdTracker(double threshold, bool above, TimeSpan duration, double hysteresis)
{
    /// <summary>True when <paramref name="value"/> is past the threshold: the condition holds.</summary>
    public bool Holds(double value) => above ? value > threshold : value < threshold;

    /// <summary>True when <paramref name="value"/> is back past the threshold by the hysteresis: the condition stops holding.</summary>
    public bool Clears(double value) => above ? value <= threshold - hysteresis : value >= threshold + hysteresis;

    /// <summary>The state after one reading, and whether the rule fires on it.</summary>
    public (TrackerState State, bool Fire) Observe(TrackerState state, DateTimeOffset timestamp, double value)
    {
        if (state.LastTimestamp is { } last && timestamp <= last)
        {
            return (state, false);
        }
        return state.Phase switch
        {
            TrackerPhase.Armed when Holds(value) && duration <= TimeSpan.Zero => (new(TrackerPhase.Fired, timestamp, timestamp), true),
            TrackerPhase.Armed when Holds(value) => (new(TrackerPhase.Pending, timestamp, timestamp), false),
            TrackerPhase.Pending when Clears(value) => (new(TrackerPhase.Armed, null, timestamp), false),
            TrackerPhase.Pending when timestamp - state.Since >= duration => (new(TrackerPhase.Fired, state.Since, timestamp), true),
            TrackerPhase.Fired when Clears(value) => (new(TrackerPhase.Armed, null, timestamp), false),
            _ => (state with { LastTimestamp = timestamp }, false),
        };
    }

    /// <summary>When a pending condition has held long enough by the clock (the sweep fires it then), or null when nothing is pending.</summary>
    public DateTimeOffset? DueAt(TrackerState state) => state.Phase == TrackerPhase.Pending ? state.Since + duration : null;

    /// <summary>The state after the sweep fired a pending condition at <paramref name="now"/>.</summary>
    public static TrackerState FiredByClock(TrackerState state) => state with { Phase = TrackerPhase.Fired };
}
