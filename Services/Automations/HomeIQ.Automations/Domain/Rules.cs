using System.Globalization;
using System.Text.Json;
using HomeIQ.Contracts;
using HomeIQ.ServiceDefaults.Errors;
using HomeIQ.ServiceDefaults.Time;

namespace HomeIQ.Automations.Domain;

/// <summary>
/// A rule as clients write it and as it is stored: one trigger, conditions that must all hold when it fires, and actions run in order.
/// </summary>
/// <param name="Name">A name the home's members recognise.</param>
/// <param name="Enabled">False keeps the rule without running it (default true).</param>
public sealed record RuleDefinition(string? Name, bool? Enabled, TriggerDefinition? Trigger, IReadOnlyList<ConditionDefinition>? Conditions,
    IReadOnlyList<ActionDefinition>? Actions);

/// <summary>
/// What starts a rule, by <paramref name="Type"/>:
/// <c>reading</c> (<paramref name="DeviceId"/>, <paramref name="Metric"/>, <paramref name="Above"/> or <paramref name="Below"/>, optional
/// <paramref name="ForSeconds"/> and <paramref name="Hysteresis"/>); <c>anomaly</c> (optional <paramref name="DeviceId"/> and
/// <paramref name="Kind"/>: outlier, offline, stuck, levelShift, implausible); <c>state</c> (<paramref name="DeviceId"/> changes to
/// <paramref name="To"/>); <c>schedule</c> (<paramref name="At"/> HH:mm, optional <paramref name="Days"/> sun…sat, <paramref name="TimeZone"/>).
/// </summary>
public sealed record TriggerDefinition(string? Type, Guid? DeviceId = null, string? Metric = null, double? Above = null, double? Below = null,
    int? ForSeconds = null, double? Hysteresis = null, string? Kind = null, string? To = null, string? At = null, IReadOnlyList<string>? Days = null,
    string? TimeZone = null);

/// <summary>
/// Must hold when the trigger fires, by <paramref name="Type"/>: <c>state</c> (<paramref name="DeviceId"/>'s last known state is
/// <paramref name="Is"/>) or <c>time</c> (the local time in <paramref name="TimeZone"/> is in [<paramref name="After"/>,
/// <paramref name="Before"/>), a window that may span midnight).
/// </summary>
public sealed record ConditionDefinition(string? Type, Guid? DeviceId = null, string? Is = null, string? After = null, string? Before = null,
    string? TimeZone = null);

/// <summary>
/// What a rule does, by <paramref name="Type"/>: <c>command</c> (<paramref name="DeviceId"/>, <paramref name="Action"/> turn_on, turn_off,
/// toggle or set, <paramref name="Parameters"/>), <c>scene</c> (the steps of <paramref name="SceneId"/>), <c>notify</c>
/// (<paramref name="Title"/>, <paramref name="Message"/> to the home's members).
/// </summary>
public sealed record ActionDefinition(string? Type, Guid? DeviceId = null, string? Action = null, IReadOnlyDictionary<string, JsonElement>? Parameters = null,
    Guid? SceneId = null, string? Title = null, string? Message = null);

/// <summary>A checked rule, ready to evaluate.</summary>
public sealed record Rule(Guid Id, Guid HomeId, string Name, bool Enabled, Trigger Trigger, IReadOnlyList<Condition> Conditions, IReadOnlyList<RuleAction> Actions);

/// <summary>A checked trigger.</summary>
public abstract record Trigger;

/// <summary>A reading of one device metric past a threshold for a duration.</summary>
public sealed record ReadingTrigger(Guid DeviceId, string Metric, double Threshold, bool Above, TimeSpan Duration, double Hysteresis) : Trigger
{
    /// <summary>The tracker that evaluates it.</summary>
    public ThresholdTracker Tracker { get; } = new(Threshold, Above, Duration, Hysteresis);
}

/// <summary>An anomaly of the home, optionally of one device and kind.</summary>
public sealed record AnomalyTrigger(Guid? DeviceId, AnomalyKind? Kind) : Trigger;

/// <summary>A device changing to a state.</summary>
public sealed record StateTrigger(Guid DeviceId, string To) : Trigger;

/// <summary>A time of day on some weekdays.</summary>
public sealed record ScheduleTrigger(Schedule Schedule) : Trigger;

/// <summary>A checked condition.</summary>
public abstract record Condition;

/// <summary>A device's last known state.</summary>
public sealed record StateCondition(Guid DeviceId, string Is) : Condition;

/// <summary>A window of local time in a zone (it may span midnight).</summary>
public sealed record TimeCondition(DailyWindow Window, TimeZoneInfo Zone) : Condition
{
    /// <summary>True when <paramref name="now"/> falls in the window.</summary>
    public bool Holds(DateTimeOffset now) => Window.Contains(now, Zone);
}

/// <summary>A checked action.</summary>
public abstract record RuleAction;

/// <summary>A command to a device.</summary>
public sealed record CommandAction(Guid DeviceId, string Action, IReadOnlyDictionary<string, JsonElement> Parameters) : RuleAction;

/// <summary>The steps of a scene.</summary>
public sealed record SceneAction(Guid SceneId) : RuleAction;

/// <summary>A notification to the home's members.</summary>
public sealed record NotifyAction(string Title, string Message) : RuleAction;

/// <summary>Checks rule and scene definitions, collecting every error under its JSON path (<c>trigger.metric</c>, <c>actions[1].deviceId</c>).</summary>
public sealed class DefinitionErrors : QueryErrors
{
    /// <summary>The command actions devices understand.</summary>
    public static readonly string[] CommandActions = ["turn_on", "turn_off", "toggle", "set"];

    private const int MaxName = 200;
    private const int MaxItems = 32;
    private const int MaxParameters = 16;
    private static readonly Dictionary<string, AnomalyKind> Kinds = new(StringComparer.Ordinal)
    {
        ["outlier"] = AnomalyKind.Outlier, ["offline"] = AnomalyKind.Offline, ["stuck"] = AnomalyKind.Stuck,
        ["levelShift"] = AnomalyKind.LevelShift, ["implausible"] = AnomalyKind.Implausible,
    };

    /// <summary>The checked rule, or null with the errors recorded.</summary>
    public Rule? Rule(Guid id, Guid homeId, RuleDefinition? definition)
    {
        if (definition is null)
        {
            Add("body", "A rule is required.");
            return null;
        }
        var name = Name("name", definition.Name);
        var trigger = Trigger(definition.Trigger);
        var conditions = Items("conditions", definition.Conditions, Condition);
        var actions = Items("actions", definition.Actions, Action);
        if (definition.Actions is null or { Count: 0 })
        {
            Add("actions", "A rule needs at least one action.");
        }
        return Any ? null : new Rule(id, homeId, name!, definition.Enabled ?? true, trigger!, conditions, actions);
    }

    /// <summary>Checks a scene's name and steps (commands only).</summary>
    public IReadOnlyList<CommandAction> Scene(string? name, IReadOnlyList<ActionDefinition>? steps)
    {
        Name("name", name);
        if (steps is null or { Count: 0 })
        {
            Add("steps", "A scene needs at least one step.");
            return [];
        }
        var checkedSteps = Items("steps", steps, (path, step) => step.Type is null or "command" ? Command(path, step) : Invalid(path + ".type", "A scene's steps are commands."));
        return [.. checkedSteps.OfType<CommandAction>()];
    }

    private string? Name(string path, string? name)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Length > MaxName)
        {
            Add(path, $"'{path}' is required, at most {MaxName} characters.");
            return null;
        }
        return name.Trim();
    }

    private List<T> Items<TDefinition, T>(string path, IReadOnlyList<TDefinition>? items, Func<string, TDefinition, T?> check) where T : class
    {
        if (items is null)
        {
            return [];
        }
        if (items.Count > MaxItems)
        {
            Add(path, $"At most {MaxItems} {path}.");
            return [];
        }
        var result = new List<T>();
        for (var i = 0; i < items.Count; i++)
        {
            var itemPath = string.Create(CultureInfo.InvariantCulture, $"{path}[{i}]");
            if (items[i] is null)
            {
                Add(itemPath, "Must not be null.");
            }
            else if (check(itemPath, items[i]) is { } item)
            {
                result.Add(item);
            }
        }
        return result;
    }

    private T? Invalid<T>(string path, string message) where T : class
    {
        Add(path, message);
        return null;
    }

    private RuleAction? Invalid(string path, string message) => Invalid<RuleAction>(path, message);

    private Guid? Device(string path, Guid? deviceId, bool required = true)
    {
        if (deviceId is null || deviceId == Guid.Empty)
        {
            if (required || deviceId == Guid.Empty)
            {
                Add(path, $"'{path}' must be a device id.");
            }
            return null;
        }
        return deviceId;
    }

    private string? State(string path, string? state)
    {
        if (state is not { Length: > 0 and <= 64 })
        {
            Add(path, $"'{path}' must be a state of 1 to 64 characters, e.g. on.");
            return null;
        }
        return state;
    }

    private TimeOnly? LocalTime(string path, string? raw)
    {
        if (TimeOnly.TryParseExact(raw, "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var time))
        {
            return time;
        }
        Add(path, $"'{path}' must be a local time HH:mm, e.g. 07:30.");
        return null;
    }

    private TimeZoneInfo? Zone(string path, string? raw) =>
        TimeZones.Find(raw) ?? Invalid<TimeZoneInfo>(path, $"'{path}' must be an IANA time zone, e.g. Europe/Paris.");

    private Trigger? Trigger(TriggerDefinition? t)
    {
        switch (t?.Type)
        {
            case null when t is null:
                Add("trigger", "A rule needs a trigger.");
                return null;
            case "reading":
            {
                var device = Device("trigger.deviceId", t.DeviceId);
                var metric = t.Metric is { } m && IsMetric(m) ? m : Invalid<string>("trigger.metric", "'trigger.metric' must be a metric name, e.g. temperature.");
                if ((t.Above is null) == (t.Below is null) || t.Above is { } a && !double.IsFinite(a) || t.Below is { } b && !double.IsFinite(b))
                {
                    Add("trigger.above", "Give exactly one of 'trigger.above' and 'trigger.below', a finite number.");
                }
                if (t.ForSeconds is < 0 or > 7 * 24 * 3600)
                {
                    Add("trigger.forSeconds", "'trigger.forSeconds' must be 0 to 604800.");
                }
                if (t.Hysteresis is { } h && (!double.IsFinite(h) || h < 0))
                {
                    Add("trigger.hysteresis", "'trigger.hysteresis' must be a number of 0 or more.");
                }
                return Any ? null : new ReadingTrigger(device!.Value, metric!, (t.Above ?? t.Below)!.Value, t.Above is not null,
                    TimeSpan.FromSeconds(t.ForSeconds ?? 0), t.Hysteresis ?? 0);
            }
            case "anomaly":
            {
                var device = Device("trigger.deviceId", t.DeviceId, required: false);
                AnomalyKind? kind = null;
                if (t.Kind is not null)
                {
                    kind = Kinds.TryGetValue(t.Kind, out var k) ? k : null;
                    if (kind is null)
                    {
                        Add("trigger.kind", $"'trigger.kind' must be one of {string.Join(", ", Kinds.Keys)}.");
                    }
                }
                return new AnomalyTrigger(device, kind);
            }
            case "state":
            {
                var device = Device("trigger.deviceId", t.DeviceId);
                var to = State("trigger.to", t.To);
                return device is null || to is null ? null : new StateTrigger(device.Value, to);
            }
            case "schedule":
            {
                var at = LocalTime("trigger.at", t.At);
                var zone = Zone("trigger.timeZone", t.TimeZone);
                var days = new HashSet<DayOfWeek>();
                foreach (var day in t.Days ?? [])
                {
                    if (Weekdays.Parse(day) is { } d)
                    {
                        days.Add(d);
                    }
                    else
                    {
                        Add("trigger.days", $"'trigger.days' must be weekday names: {string.Join(", ", Weekdays.Names)}.");
                    }
                }
                return at is null || zone is null ? null : new ScheduleTrigger(new Schedule(at.Value, days, zone));
            }
            default:
                Add("trigger.type", "'trigger.type' must be reading, anomaly, state or schedule.");
                return null;
        }
    }

    private Condition? Condition(string path, ConditionDefinition c)
    {
        switch (c.Type)
        {
            case "state":
            {
                var device = Device(path + ".deviceId", c.DeviceId);
                var state = State(path + ".is", c.Is);
                return device is null || state is null ? null : new StateCondition(device.Value, state);
            }
            case "time":
            {
                var after = LocalTime(path + ".after", c.After);
                var before = LocalTime(path + ".before", c.Before);
                var zone = Zone(path + ".timeZone", c.TimeZone);
                if (after is not null && after == before)
                {
                    Add(path + ".before", $"'{path}.before' must differ from '{path}.after'.");
                }
                return after is null || before is null || zone is null ? null : new TimeCondition(new DailyWindow(after.Value, before.Value), zone);
            }
            default:
                return Invalid<Condition>(path + ".type", $"'{path}.type' must be state or time.");
        }
    }

    private RuleAction? Action(string path, ActionDefinition a) => a.Type switch
    {
        "command" => Command(path, a),
        "scene" => a.SceneId is { } id && id != Guid.Empty ? new SceneAction(id) : Invalid(path + ".sceneId", $"'{path}.sceneId' must be a scene id."),
        "notify" => Name(path + ".title", a.Title) is { } title && Text(path + ".message", a.Message) is { } message ? new NotifyAction(title, message) : null,
        _ => Invalid(path + ".type", $"'{path}.type' must be command, scene or notify."),
    };

    private string? Text(string path, string? text)
    {
        if (string.IsNullOrWhiteSpace(text) || text.Length > 2000)
        {
            Add(path, $"'{path}' is required, at most 2000 characters.");
            return null;
        }
        return text;
    }

    private CommandAction? Command(string path, ActionDefinition a)
    {
        var device = Device(path + ".deviceId", a.DeviceId);
        if (a.Action is null || !CommandActions.Contains(a.Action, StringComparer.Ordinal))
        {
            Add(path + ".action", $"'{path}.action' must be one of {string.Join(", ", CommandActions)}.");
            return null;
        }
        var parameters = a.Parameters ?? new Dictionary<string, JsonElement>();
        if (parameters.Count > MaxParameters || parameters.Keys.Any(k => k is not { Length: > 0 and <= 64 })
            || parameters.Values.Any(v => v.ValueKind is JsonValueKind.Object or JsonValueKind.Array or JsonValueKind.Undefined))
        {
            Add(path + ".parameters", $"'{path}.parameters' must map up to {MaxParameters} names to numbers, strings, booleans or null.");
            return null;
        }
        if (a.Action == "set" && parameters.Count == 0)
        {
            Add(path + ".parameters", $"'{path}.action' set needs parameters, e.g. {{\"brightness\": 128}}.");
            return null;
        }
        return device is null ? null : new CommandAction(device.Value, a.Action, parameters);
    }
}
