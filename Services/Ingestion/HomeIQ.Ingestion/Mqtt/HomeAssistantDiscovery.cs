using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace HomeIQ.Ingestion.Mqtt;

/// <summary>
/// Where a Home Assistant value template reads from: the raw payload (<c>{{ value }}</c>) or a path into the payload's JSON
/// (<c>{{ value_json.a.b }}</c>, <c>{{ value_json['a'] }}</c>, <c>{{ value_json.a[0] }}</c>; an empty path is the whole JSON value).
/// </summary>
public sealed record DiscoveryValuePath(bool Json, IReadOnlyList<string> Path)
{
    /// <summary><c>{{ value }}</c>: the payload as it is.</summary>
    public static readonly DiscoveryValuePath Raw = new(false, []);

    /// <summary>A JSON path (<c>value_json.a.b</c>).</summary>
    public static DiscoveryValuePath JsonPath(params string[] path) => new(true, path);

    public bool Equals(DiscoveryValuePath? other) => other is not null && Json == other.Json && Path.SequenceEqual(other.Path, StringComparer.Ordinal);

    public override int GetHashCode() => HashCode.Combine(Json, Path.Count);

    public override string ToString() => Json ? "value_json" + string.Concat(Path.Select(p => $"['{p}']")) : "value";
}

/// <summary>
/// An entity a Home Assistant discovery config describes: a <c>sensor</c> (a value of <see cref="Metric"/> in <see cref="Unit"/>, the
/// payload's number times <see cref="Scale"/>), or a <c>binary_sensor</c>, <c>switch</c> or <c>light</c> (an on/off state).
/// </summary>
/// <param name="ConfigTopic">The discovery topic it came from (<c>homeassistant/sensor/…/config</c>).</param>
/// <param name="Component">sensor, binary_sensor, switch or light.</param>
/// <param name="UniqueId">Its <c>unique_id</c>, else <c>&lt;component&gt;/[&lt;node_id&gt;/]&lt;object_id&gt;</c> from the config topic.</param>
/// <param name="Name">The entity's name: the device name and the entity name, or either alone.</param>
/// <param name="StateTopic">The topic its values or states arrive on (<c>~</c> expanded).</param>
/// <param name="Value">Where the value or state is in a state message (from <c>value_template</c>, or <c>state_value_template</c> for a light).</param>
/// <param name="Metric">HomeIQ's metric of a sensor (temperature, humidity, …); null for an on/off entity.</param>
/// <param name="Unit">HomeIQ's unit of <see cref="Metric"/> (°C, %, hPa, W, kWh…).</param>
/// <param name="Scale">What the payload's number is multiplied by to be in <see cref="Unit"/> (1000 for kW → W).</param>
/// <param name="PayloadOn">The (templated) state payload that means on (<c>state_on</c>, else <c>payload_on</c>, else <c>ON</c>).</param>
/// <param name="PayloadOff">The state payload that means off.</param>
/// <param name="CommandTopic">Where commands go (<c>command_topic</c>), kept for device commands later; null for sensors.</param>
public sealed record DiscoveredEntity(
    string ConfigTopic, string Component, string UniqueId, string Name, string StateTopic, DiscoveryValuePath Value,
    string? Metric, string? Unit, double Scale, string PayloadOn, string PayloadOff, string? CommandTopic)
{
    /// <summary>The HomeIQ device's external id: <c>mqtt:ha/&lt;unique_id&gt;</c>.</summary>
    public string ExternalId => $"mqtt:ha/{UniqueId}";

    /// <summary>Whether it reports an on/off state rather than a measured value.</summary>
    public bool IsOnOff => Metric is null;
}

/// <summary>What a discovery config message said.</summary>
public enum DiscoveryConfigKind
{
    /// <summary>A supported entity (<see cref="DiscoveryConfig.Entity"/>).</summary>
    Entity,

    /// <summary>An empty payload: the entity of this config topic is gone.</summary>
    Removed,

    /// <summary>A valid config HomeIQ does not follow (another component, a metric it lacks, a template beyond the common shapes).</summary>
    Unsupported,

    /// <summary>Not a discovery config: not a JSON object, or a required option is missing or of the wrong type.</summary>
    Malformed,
}

/// <summary>The outcome of parsing one config message, with the reason when it is <see cref="DiscoveryConfigKind.Unsupported"/> or <see cref="DiscoveryConfigKind.Malformed"/>.</summary>
public readonly record struct DiscoveryConfig(DiscoveryConfigKind Kind, string ConfigTopic, DiscoveredEntity? Entity = null, string? Problem = null)
{
    public static DiscoveryConfig Unsupported(string topic, string problem) => new(DiscoveryConfigKind.Unsupported, topic, null, problem);

    public static DiscoveryConfig Malformed(string topic, string problem) => new(DiscoveryConfigKind.Malformed, topic, null, problem);
}

/// <summary>
/// Home Assistant MQTT discovery (https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery): parses a retained config on
/// <c>&lt;prefix&gt;/&lt;component&gt;/[&lt;node_id&gt;/]&lt;object_id&gt;/config</c> (abbreviated keys and the <c>~</c> base topic expanded) into a
/// <see cref="DiscoveredEntity"/>, and maps a state message of such an entity to an <see cref="MqttDeviceMessage"/>. Pure: no I/O, no clock.
/// </summary>
public static partial class HomeAssistantDiscovery
{
    /// <summary>Home Assistant's default discovery prefix.</summary>
    public const string DefaultPrefix = "homeassistant";

    /// <summary>The components followed.</summary>
    public static readonly string[] Components = ["sensor", "binary_sensor", "switch", "light"];

    private const int MaxNameLength = 100;
    private const int MaxUniqueIdLength = 200;

    /// <summary>The abbreviations of the options read here (Home Assistant's list has more; the others are never read).</summary>
    private static readonly Dictionary<string, string> Abbreviations = new(StringComparer.Ordinal)
    {
        ["stat_t"] = "state_topic", ["cmd_t"] = "command_topic", ["uniq_id"] = "unique_id", ["obj_id"] = "object_id",
        ["dev_cla"] = "device_class", ["unit_of_meas"] = "unit_of_measurement", ["val_tpl"] = "value_template",
        ["stat_val_tpl"] = "state_value_template", ["pl_on"] = "payload_on", ["pl_off"] = "payload_off", ["stat_on"] = "state_on",
        ["stat_off"] = "state_off", ["dev"] = "device", ["stat_cla"] = "state_class", ["avty_t"] = "availability_topic",
        ["json_attr_t"] = "json_attributes_topic", ["p"] = "platform",
    };

    private static readonly Dictionary<string, string> DeviceAbbreviations = new(StringComparer.Ordinal)
    {
        ["ids"] = "identifiers", ["mf"] = "manufacturer", ["mdl"] = "model", ["sw"] = "sw_version", ["hw"] = "hw_version",
        ["cns"] = "connections", ["sa"] = "suggested_area",
    };

    /// <summary>device_class → HomeIQ metric, and the units it takes: unit → (HomeIQ unit, factor).</summary>
    private static readonly Dictionary<string, Dictionary<string, (string Unit, double Scale)>> Metrics = new(StringComparer.Ordinal)
    {
        ["temperature"] = new(StringComparer.Ordinal) { ["°C"] = ("°C", 1), ["°F"] = ("°F", 1), ["C"] = ("°C", 1), ["F"] = ("°F", 1) },
        ["humidity"] = new(StringComparer.Ordinal) { ["%"] = ("%", 1) },
        ["pressure"] = new(StringComparer.Ordinal) { ["hPa"] = ("hPa", 1), ["mbar"] = ("hPa", 1), ["kPa"] = ("hPa", 10), ["Pa"] = ("hPa", 0.01) },
        ["power"] = new(StringComparer.Ordinal) { ["W"] = ("W", 1), ["kW"] = ("W", 1000) },
        ["energy"] = new(StringComparer.Ordinal) { ["kWh"] = ("kWh", 1), ["Wh"] = ("kWh", 0.001), ["MWh"] = ("kWh", 1000) },
        ["battery"] = new(StringComparer.Ordinal) { ["%"] = ("%", 1) },
        ["voltage"] = new(StringComparer.Ordinal) { ["V"] = ("V", 1), ["mV"] = ("V", 0.001) },
        ["current"] = new(StringComparer.Ordinal) { ["A"] = ("A", 1), ["mA"] = ("A", 0.001) },
    };

    /// <summary>Jinja filters that change nothing HomeIQ keeps (type casts, rounding, defaults): left out. Any other filter is not supported.</summary>
    private static readonly HashSet<string> HarmlessFilters = new(StringComparer.Ordinal) { "float", "int", "round", "string", "trim", "default", "d", "is_defined" };

    /// <summary>The topic filters of the config topics under <paramref name="prefix"/> (subscribed on every replica, not shared).</summary>
    public static string[] TopicFilters(string prefix) => [$"{prefix}/+/+/config", $"{prefix}/+/+/+/config"];

    /// <summary>Whether <paramref name="topic"/> is a config topic under <paramref name="prefix"/> (<c>&lt;prefix&gt;/&lt;component&gt;/[&lt;node_id&gt;/]&lt;object_id&gt;/config</c>).</summary>
    public static bool IsConfigTopic(string prefix, string topic) => ConfigLevels(prefix, topic) is not null;

    private static string[]? ConfigLevels(string prefix, string topic)
    {
        if (!topic.StartsWith(prefix + "/", StringComparison.Ordinal) || !topic.EndsWith("/config", StringComparison.Ordinal))
        {
            return null;
        }
        var levels = topic[(prefix.Length + 1)..^"/config".Length].Split('/');
        return levels.Length is 2 or 3 && levels.All(l => l.Length > 0) ? levels : null;
    }

    /// <summary>Parses the config message on <paramref name="topic"/>; an empty payload removes the entity.</summary>
    public static DiscoveryConfig Parse(string prefix, string topic, ReadOnlySpan<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        ArgumentNullException.ThrowIfNull(topic);
        if (ConfigLevels(prefix, topic) is not { } levels)
        {
            return DiscoveryConfig.Malformed(topic, $"A discovery config topic is {prefix}/<component>/[<node_id>/]<object_id>/config.");
        }
        if (payload.IsEmpty)
        {
            return new(DiscoveryConfigKind.Removed, topic);
        }
        Dictionary<string, JsonElement> config;
        try
        {
            using var json = JsonDocument.Parse(payload.ToArray());
            if (json.RootElement.ValueKind != JsonValueKind.Object)
            {
                return DiscoveryConfig.Malformed(topic, "A discovery config is a JSON object.");
            }
            config = Expand(json.RootElement, Abbreviations);
        }
        catch (JsonException ex)
        {
            return DiscoveryConfig.Malformed(topic, $"The discovery config is not JSON: {ex.Message}");
        }
        var component = levels[0];
        if (!Components.Contains(component, StringComparer.Ordinal))
        {
            return DiscoveryConfig.Unsupported(topic, $"the component '{component}' is not followed (only {string.Join(", ", Components)})");
        }
        try
        {
            return Entity(topic, levels, config);
        }
        catch (ConfigException ex)
        {
            return DiscoveryConfig.Malformed(topic, ex.Message);
        }
    }

    private static DiscoveryConfig Entity(string topic, string[] levels, Dictionary<string, JsonElement> config)
    {
        var component = levels[0];
        var device = config.TryGetValue("device", out var d) && d.ValueKind == JsonValueKind.Object ? Expand(d, DeviceAbbreviations) : [];
        var stateTopic = Text(config, "state_topic");
        if (stateTopic is null)
        {
            return DiscoveryConfig.Unsupported(topic, "it has no state_topic, so there is nothing to read");
        }
        if (stateTopic.Length == 0 || stateTopic.AsSpan().IndexOfAny('+', '#') >= 0 || stateTopic.Contains('\0', StringComparison.Ordinal))
        {
            throw new ConfigException($"The state_topic '{stateTopic}' is not a topic name.");
        }
        var uniqueId = (Text(config, "unique_id") ?? string.Join('/', levels)).Trim();
        if (uniqueId.Length is 0 or > MaxUniqueIdLength || uniqueId.Any(char.IsControl))
        {
            throw new ConfigException($"The unique_id is 1 to {MaxUniqueIdLength} characters without control characters.");
        }
        var name = Name(Text(config, "name"), Text(device, "name"), levels[^1]);

        string? metric = null, unit = null;
        var scale = 1.0;
        DiscoveryValuePath value;
        string on = "ON", off = "OFF";
        string? template;
        if (component == "light" && Text(config, "schema") is { } schema && schema != "default" && schema != "basic")
        {
            if (schema != "json")
            {
                return DiscoveryConfig.Unsupported(topic, $"a light of schema '{schema}' is not supported (default or json)");
            }
            template = null;
            value = DiscoveryValuePath.JsonPath("state"); // {"state":"ON","brightness":255}
        }
        else
        {
            template = component == "light" ? Text(config, "state_value_template") : Text(config, "value_template");
            if (template is null)
            {
                value = DiscoveryValuePath.Raw;
            }
            else if (ParseTemplate(template) is { } parsed)
            {
                value = parsed;
            }
            else
            {
                return DiscoveryConfig.Unsupported(topic, $"the template '{template}' is not one of {{{{ value }}}}, {{{{ value_json.a.b }}}}, {{{{ value_json['a'] }}}} (with | float, | int or | round)");
            }
            on = (component == "switch" ? Text(config, "state_on") : null) ?? Text(config, "payload_on") ?? "ON";
            off = (component == "switch" ? Text(config, "state_off") : null) ?? Text(config, "payload_off") ?? "OFF";
        }
        if (component == "sensor")
        {
            var deviceClass = Text(config, "device_class");
            var measured = Text(config, "unit_of_measurement")?.Trim();
            if (Metric(deviceClass, measured) is not { } found)
            {
                return DiscoveryConfig.Unsupported(topic, deviceClass is null
                    ? $"a sensor without a device_class in '{measured}' is not a HomeIQ metric"
                    : $"a {deviceClass} sensor in '{measured}' is not a HomeIQ metric");
            }
            (metric, unit, scale) = found;
        }
        var commandTopic = component == "sensor" || component == "binary_sensor" ? null : Text(config, "command_topic");
        return new(DiscoveryConfigKind.Entity, topic, new DiscoveredEntity(topic, component, uniqueId, name, stateTopic, value, metric, unit, scale, on, off, commandTopic));
    }

    /// <summary>HomeIQ's metric, unit and factor of a sensor's device_class and unit; without a device_class the unit alone when it says one metric (not %).</summary>
    private static (string Metric, string Unit, double Scale)? Metric(string? deviceClass, string? unit)
    {
        if (unit is null)
        {
            return null;
        }
        if (deviceClass is not null)
        {
            return Metrics.TryGetValue(deviceClass, out var units) && units.TryGetValue(unit, out var u) ? (deviceClass, u.Unit, u.Scale) : null;
        }
        var candidates = Metrics.Where(m => m.Value.ContainsKey(unit)).ToList();
        return candidates is [var only] ? (only.Key, only.Value[unit].Unit, only.Value[unit].Scale) : null;
    }

    /// <summary>Home Assistant's friendly name: the device name and the entity name; either alone; else the object id.</summary>
    private static string Name(string? entity, string? device, string objectId)
    {
        entity = Clean(entity);
        device = Clean(device);
        var name = (entity, device) switch
        {
            ({ } e, { } dev) when !e.StartsWith(dev, StringComparison.OrdinalIgnoreCase) => $"{dev} {e}",
            ({ } e, _) => e,
            (null, { } dev) => dev,
            _ => objectId,
        };
        return name.Length > MaxNameLength ? name[..MaxNameLength] : name;

        static string? Clean(string? text) =>
            text is null ? null : new string([.. text.Where(c => !char.IsControl(c))]).Trim() is { Length: > 0 } clean ? clean : null;
    }

    /// <summary>
    /// The value path of a template of the common shapes (<c>{{ value }}</c>, <c>{{ value_json.a.b }}</c>, <c>{{ value_json['a'] }}</c>,
    /// <c>{{ value_json.a[0] }}</c>) with harmless filters (<c>| float</c>, <c>| round(1)</c>…) left out; null for anything else.
    /// </summary>
    public static DiscoveryValuePath? ParseTemplate(string template)
    {
        ArgumentNullException.ThrowIfNull(template);
        var match = TemplatePattern().Match(template);
        if (!match.Success)
        {
            return null;
        }
        foreach (Capture filter in match.Groups["filter"].Captures)
        {
            if (!HarmlessFilters.Contains(filter.Value))
            {
                return null;
            }
        }
        if (match.Groups["root"].Value == "value")
        {
            return match.Groups["segment"].Captures.Count == 0 ? DiscoveryValuePath.Raw : null;
        }
        var path = new List<string>();
        foreach (Capture segment in match.Groups["segment"].Captures)
        {
            var text = segment.Value;
            path.Add(text[0] == '.' ? text[1..] : text.Trim('[', ']', ' ', '\'', '"'));
        }
        return new DiscoveryValuePath(true, path);
    }

    [GeneratedRegex("""
        ^\s*\{\{-?\s*(?<root>value_json|value)(?<segment>\.[A-Za-z_][A-Za-z0-9_]*|\[\s*(?:'[^'\]]*'|"[^"\]]*"|\d+)\s*\])*\s*(?:\|\s*(?<filter>[A-Za-z_]+)\s*(?:\([^()]*\))?\s*)*-?\}\}\s*$
        """, RegexOptions.CultureInvariant)]
    private static partial Regex TemplatePattern();

    /// <summary>
    /// A state message of <paramref name="entity"/>: the sensor's value (in HomeIQ's unit) or the on/off state, as a device message;
    /// <see cref="MqttMessageKind.Ignored"/> for an empty, <c>unknown</c> or <c>unavailable</c> value; malformed when the template's
    /// path is not in the payload, the value is not a number, or the state is neither payload_on nor payload_off.
    /// </summary>
    public static MqttMapping MapState(DiscoveredEntity entity, ReadOnlySpan<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(entity);
        string? text;
        try
        {
            text = Render(entity.Value, payload);
        }
        catch (JsonException ex)
        {
            return MqttMapping.Malformed($"The payload is not JSON, yet {entity.UniqueId}'s template reads {entity.Value}: {ex.Message}");
        }
        if (text is null)
        {
            return MqttMapping.Malformed($"The payload has no {entity.Value} for {entity.UniqueId}.");
        }
        if (text.Trim() is "" or "unknown" or "unavailable" or "None")
        {
            return new(MqttMessageKind.Ignored);
        }
        if (entity.IsOnOff)
        {
            var state = text == entity.PayloadOn ? "on" : text == entity.PayloadOff ? "off" : null;
            return state is null
                ? MqttMapping.Malformed($"The state '{Short(text)}' of {entity.UniqueId} is neither '{entity.PayloadOn}' nor '{entity.PayloadOff}'.")
                : new(MqttMessageKind.Device, new MqttDeviceMessage(entity.ExternalId, entity.Name, [], state));
        }
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) || !double.IsFinite(number * entity.Scale))
        {
            return MqttMapping.Malformed($"The value '{Short(text)}' of {entity.UniqueId} is not a number.");
        }
        return new(MqttMessageKind.Device, new MqttDeviceMessage(entity.ExternalId, entity.Name, [new(entity.Metric!, number * entity.Scale, entity.Unit!)], null));
    }

    /// <summary>The template's output as Jinja prints it (a JSON true is <c>True</c>); null when the path is not in the payload.</summary>
    private static string? Render(DiscoveryValuePath value, ReadOnlySpan<byte> payload)
    {
        if (!value.Json)
        {
            return System.Text.Encoding.UTF8.GetString(payload);
        }
        using var json = JsonDocument.Parse(payload.ToArray());
        var element = json.RootElement;
        foreach (var key in value.Path)
        {
            if (element.ValueKind == JsonValueKind.Object && element.TryGetProperty(key, out var child))
            {
                element = child;
            }
            else if (element.ValueKind == JsonValueKind.Array && int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index < element.GetArrayLength())
            {
                element = element[index];
            }
            else
            {
                return null;
            }
        }
        return ScalarText(element);
    }

    private static string? ScalarText(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => element.GetString(),
        JsonValueKind.Number => element.GetRawText(),
        JsonValueKind.True => "True",
        JsonValueKind.False => "False",
        JsonValueKind.Null => "None",
        _ => null,
    };

    private static string Short(string text) => text.Length > 40 ? text[..40] + "…" : text;

    /// <summary>The object's options with abbreviated keys written out and, for the top level, <c>~</c> replaced by the base topic in every *topic option.</summary>
    private static Dictionary<string, JsonElement> Expand(JsonElement element, Dictionary<string, string> abbreviations)
    {
        var options = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            options[abbreviations.GetValueOrDefault(property.Name, property.Name)] = property.Value.Clone();
        }
        if (options.TryGetValue("~", out var tilde) && tilde.ValueKind == JsonValueKind.String && tilde.GetString() is { Length: > 0 } baseTopic)
        {
            foreach (var (key, value) in options.ToList())
            {
                if (key.EndsWith("topic", StringComparison.Ordinal) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } topic)
                {
                    var expanded = topic[0] == '~' ? baseTopic + topic[1..] : topic[^1] == '~' ? topic[..^1] + baseTopic : null;
                    if (expanded is not null)
                    {
                        options[key] = JsonSerializer.SerializeToElement(expanded);
                    }
                }
            }
        }
        return options;
    }

    /// <summary>An option as text (a number as written, a boolean as Home Assistant's True/False); null when absent or null; malformed when an object or array.</summary>
    private static string? Text(Dictionary<string, JsonElement> options, string key) =>
        !options.TryGetValue(key, out var value) || value.ValueKind == JsonValueKind.Null ? null
        : ScalarText(value) ?? throw new ConfigException($"The option {key} is a string, not {value.ValueKind.ToString().ToLowerInvariant()}.");

    private sealed class ConfigException(string message) : Exception(message);
}
