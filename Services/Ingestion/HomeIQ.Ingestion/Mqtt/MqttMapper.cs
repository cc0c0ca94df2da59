using System.Text.Json;

namespace HomeIQ.Ingestion.Mqtt;

/// <summary>One measured value of an MQTT device, in HomeIQ's metric and unit.</summary>
public readonly record struct MqttValue(string Metric, double Value, string Unit);

/// <summary>What an MQTT message says about one device: its external id (<c>mqtt:zigbee2mqtt/…</c>), a name, values and an on/off state.</summary>
public sealed record MqttDeviceMessage(string ExternalId, string Name, IReadOnlyList<MqttValue> Values, string? State);

/// <summary>How a message was understood.</summary>
public enum MqttMessageKind
{
    /// <summary>Values or a state of a device.</summary>
    Device,

    /// <summary>A topic of a known project that carries nothing to store (Zigbee2MQTT's bridge, availability, a /set command).</summary>
    Ignored,

    /// <summary>No mapping knows the topic.</summary>
    UnknownTopic,

    /// <summary>The topic is known but the payload is not what that project sends.</summary>
    Malformed,
}

/// <summary>The mapping of one message: its kind, and the device message when it is <see cref="MqttMessageKind.Device"/>.</summary>
public readonly record struct MqttMapping(MqttMessageKind Kind, MqttDeviceMessage? Message = null, string? Problem = null)
{
    public static MqttMapping Malformed(string problem) => new(MqttMessageKind.Malformed, null, problem);
}

/// <summary>
/// Maps Zigbee2MQTT (<c>zigbee2mqtt/&lt;friendly_name&gt;</c>), Tasmota (<c>tele/&lt;topic&gt;/SENSOR</c>, <c>tele/&lt;topic&gt;/STATE</c>,
/// <c>stat/&lt;topic&gt;/POWER</c>) and Shelly Gen2 (<c>&lt;id&gt;/status/switch:N</c>) messages to device values. Pure: no I/O, no clock.
/// </summary>
public static class MqttMapper
{
    /// <summary>The topic filters that cover every mapped topic (subscribed as <c>$share/{group}/{filter}</c>).</summary>
    public static readonly string[] TopicFilters = ["zigbee2mqtt/#", "tele/+/SENSOR", "tele/+/STATE", "stat/+/POWER", "+/status/+"];

    private const int MaxNameLength = 100;

    // Zigbee2MQTT exposes: https://www.zigbee2mqtt.io/guide/usage/exposes.html (energy in kWh, power in W).
    private static readonly (string Key, string Metric, string Unit)[] ZigbeeValues =
    [
        ("temperature", "temperature", "°C"), ("humidity", "humidity", "%"), ("pressure", "pressure", "hPa"),
        ("power", "power", "W"), ("energy", "energy", "kWh"), ("battery", "battery", "%"),
    ];

    public static MqttMapping Map(string topic, ReadOnlySpan<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(topic);
        var levels = topic.Split('/');
        try
        {
            return levels switch
            {
                ["zigbee2mqtt", "bridge", ..] => new(MqttMessageKind.Ignored),
                ["zigbee2mqtt", .., "availability" or "set" or "get"] when levels.Length > 2 => new(MqttMessageKind.Ignored),
                ["zigbee2mqtt", .. var name] when name.Length > 0 && name.All(l => l.Length > 0) => Zigbee2Mqtt(string.Join('/', name), payload),
                ["tele", { Length: > 0 } device, "SENSOR"] => TasmotaSensor(device, payload),
                ["tele", { Length: > 0 } device, "STATE"] => TasmotaState(device, payload),
                ["stat", { Length: > 0 } device, "POWER"] => TasmotaPower(device, payload),
                [{ Length: > 0 } device, "status", var component] when component.StartsWith("switch:", StringComparison.Ordinal) => ShellySwitch(device, component, payload),
                _ => new(MqttMessageKind.UnknownTopic),
            };
        }
        catch (JsonException ex)
        {
            return MqttMapping.Malformed($"The payload is not JSON: {ex.Message}");
        }
    }

    private static MqttMapping Zigbee2Mqtt(string name, ReadOnlySpan<byte> payload)
    {
        using var json = JsonDocument.Parse(payload.ToArray());
        if (json.RootElement.ValueKind != JsonValueKind.Object)
        {
            return MqttMapping.Malformed("A Zigbee2MQTT device message is a JSON object.");
        }
        var values = new List<MqttValue>();
        foreach (var (key, metric, unit) in ZigbeeValues)
        {
            if (Number(json.RootElement, key) is { } value)
            {
                values.Add(new(metric, value, unit));
            }
        }
        var state = OnOff(json.RootElement, "state");
        return Device($"zigbee2mqtt/{name}", name, values, state);
    }

    /// <summary><c>{"Time":"…","ENERGY":{"Total":…,"Power":…},"AM2301":{"Temperature":…,"Humidity":…},"TempUnit":"C"}</c></summary>
    private static MqttMapping TasmotaSensor(string device, ReadOnlySpan<byte> payload)
    {
        using var json = JsonDocument.Parse(payload.ToArray());
        if (json.RootElement.ValueKind != JsonValueKind.Object)
        {
            return MqttMapping.Malformed("A Tasmota SENSOR message is a JSON object.");
        }
        var temperatureUnit = json.RootElement.TryGetProperty("TempUnit", out var u) && u.ValueKind == JsonValueKind.String && u.GetString() == "F" ? "°F" : "°C";
        var values = new List<MqttValue>();
        foreach (var sensor in json.RootElement.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.Object))
        {
            if (sensor.Name == "ENERGY")
            {
                Add(values, sensor.Value, "Power", "power", "W");
                Add(values, sensor.Value, "Total", "energy", "kWh");
                Add(values, sensor.Value, "Voltage", "voltage", "V");
                Add(values, sensor.Value, "Current", "current", "A");
                continue;
            }
            Add(values, sensor.Value, "Temperature", "temperature", temperatureUnit);
            Add(values, sensor.Value, "Humidity", "humidity", "%");
            Add(values, sensor.Value, "Pressure", "pressure", "hPa");
        }
        return Device($"tasmota/{device}", device, values, null);
    }

    /// <summary><c>{"Time":"…","Uptime":"…","POWER":"ON",…}</c> (<c>POWER1</c>… for devices with several relays: the first is taken).</summary>
    private static MqttMapping TasmotaState(string device, ReadOnlySpan<byte> payload)
    {
        using var json = JsonDocument.Parse(payload.ToArray());
        if (json.RootElement.ValueKind != JsonValueKind.Object)
        {
            return MqttMapping.Malformed("A Tasmota STATE message is a JSON object.");
        }
        var state = OnOff(json.RootElement, "POWER") ?? OnOff(json.RootElement, "POWER1");
        return Device($"tasmota/{device}", device, [], state);
    }

    /// <summary>The plain text <c>ON</c> or <c>OFF</c>.</summary>
    private static MqttMapping TasmotaPower(string device, ReadOnlySpan<byte> payload)
    {
        var text = System.Text.Encoding.UTF8.GetString(payload).Trim();
        var state = text.ToUpperInvariant() switch { "ON" => "on", "OFF" => "off", _ => null };
        return state is null ? MqttMapping.Malformed("A Tasmota POWER message is ON or OFF.") : Device($"tasmota/{device}", device, [], state);
    }

    /// <summary><c>{"id":0,"output":true,"apower":8.9,"voltage":237.5,"current":0.04,"aenergy":{"total":6.532,…},"temperature":{"tC":23.5,…}}</c></summary>
    private static MqttMapping ShellySwitch(string device, string component, ReadOnlySpan<byte> payload)
    {
        using var json = JsonDocument.Parse(payload.ToArray());
        var root = json.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("id", out _))
        {
            return MqttMapping.Malformed("A Shelly switch status is a JSON object with an id.");
        }
        var values = new List<MqttValue>();
        Add(values, root, "apower", "power", "W");
        Add(values, root, "voltage", "voltage", "V");
        Add(values, root, "current", "current", "A");
        if (root.TryGetProperty("aenergy", out var energy) && Number(energy, "total") is { } wattHours)
        {
            values.Add(new("energy", wattHours / 1000, "kWh")); // Shelly counts Wh
        }
        string? state = root.TryGetProperty("output", out var output) && output.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? (output.GetBoolean() ? "on" : "off")
            : null;
        return Device($"shelly/{device}/{component}", $"{device} {component}", values, state);
    }

    private static MqttMapping Device(string path, string name, List<MqttValue> values, string? state) =>
        values.Count == 0 && state is null
            ? new(MqttMessageKind.Ignored)
            : new(MqttMessageKind.Device, new MqttDeviceMessage($"mqtt:{path}", name.Length > MaxNameLength ? name[..MaxNameLength] : name, values, state));

    private static void Add(List<MqttValue> values, JsonElement element, string key, string metric, string unit)
    {
        if (Number(element, key) is { } value)
        {
            values.Add(new(metric, value, unit));
        }
    }

    private static double? Number(JsonElement element, string key) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.Number
            && value.TryGetDouble(out var number) && double.IsFinite(number)
            ? number
            : null;

    private static string? OnOff(JsonElement element, string key) =>
        element.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()?.ToUpperInvariant() switch { "ON" => "on", "OFF" => "off", _ => null }
            : null;
}
