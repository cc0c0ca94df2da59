using System.Globalization;
using System.Text.Json;
using HomeIQ.Contracts;
using HomeIQ.Ingestion.Infrastructure;

namespace HomeIQ.Ingestion.HomeAssistant;

/// <summary>What a Home Assistant state becomes: readings, a device state change, or nothing (with the reason).</summary>
internal readonly record struct MappedState(SensorReading? Reading, List<SensorReading>? Extra, DeviceStateChanged? State, string? SkipReason);

/// <summary>Turns Home Assistant entity states into HomeIQ readings and state changes, and describes an entity for registration.</summary>
internal static class EntityMapper
{
    /// <summary>Domains whose non-numeric states (on/off, open/closed…) are device states.</summary>
    private static readonly HashSet<string> StateDomains =
        ["switch", "light", "fan", "input_boolean", "binary_sensor", "cover", "lock", "climate", "media_player", "siren", "humidifier", "valve", "vacuum"];

    /// <summary>Domains whose numeric state is a measurement.</summary>
    private static readonly HashSet<string> NumericDomains = ["sensor", "number", "input_number", "counter"];

    /// <summary>Numeric attributes that are measurements too: attribute → (metric, unit when the attributes carry none).</summary>
    private static readonly Dictionary<string, (string Metric, string Unit)> AttributeMetrics = new(StringComparer.Ordinal)
    {
        ["current_power_w"] = ("power", "W"),
        ["today_energy_kwh"] = ("energy", "kWh"),
        ["battery_level"] = ("battery", "%"),
        ["voltage"] = ("voltage", "V"),
        ["current_temperature"] = ("temperature", ""),
        ["current_humidity"] = ("humidity", "%"),
        ["brightness"] = ("brightness", ""),
    };

    public static bool IsUnavailable(string state) => state is "unavailable" or "unknown" or "";

    public static string Domain(string entityId) => entityId.IndexOf('.') is var dot and > 0 ? entityId[..dot] : entityId;

    public static string ObjectId(string entityId) => entityId.IndexOf('.') is var dot and > 0 ? entityId[(dot + 1)..] : entityId;

    public static bool TryNumber(string state, out double value) =>
        double.TryParse(state, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);

    private static string? String(JsonElement attributes, string name) =>
        attributes.ValueKind == JsonValueKind.Object && attributes.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    /// <summary>The metric of an entity's numeric state: its device_class, else the device's one capability with its unit, else the device's only capability, else its object id.</summary>
    private static string Metric(string entityId, JsonElement attributes, ExternalDevice? device)
    {
        if (String(attributes, "device_class") is { Length: > 0 } deviceClass)
        {
            return deviceClass;
        }
        if (device is not null && ByUnit(device, String(attributes, "unit_of_measurement")) is { } byUnit)
        {
            return byUnit;
        }
        if (device is { Capabilities: [{ Metric: { Length: > 0 } only, Writable: false }] })
        {
            return only;
        }
        return ObjectId(entityId);
    }

    /// <summary>The one measured capability of the device with this unit, if exactly one has it.</summary>
    private static string? ByUnit(ExternalDevice device, string? unit)
    {
        if (string.IsNullOrEmpty(unit))
        {
            return null;
        }
        string? found = null;
        foreach (var capability in device.Capabilities)
        {
            if (!capability.Writable && capability.Unit == unit && capability.Metric is { Length: > 0 } metric)
            {
                if (found is not null)
                {
                    return null;
                }
                found = metric;
            }
        }
        return found;
    }

    /// <summary>Maps a state object (<c>new_state</c>, or an element of <c>get_states</c>) of a known device.</summary>
    public static MappedState Map(Guid homeId, ExternalDevice device, string entityId, string state, JsonElement attributes, DateTimeOffset timestamp)
    {
        if (IsUnavailable(state))
        {
            return new(null, null, null, "unavailable");
        }
        var extra = Attributes(device, attributes, timestamp);
        if (TryNumber(state, out var value))
        {
            var reading = new SensorReading(device.DeviceId, Metric(entityId, attributes, device), value, String(attributes, "unit_of_measurement") ?? "", timestamp);
            return new(reading, extra, null, null);
        }
        if (StateDomains.Contains(Domain(entityId)))
        {
            Dictionary<string, string>? stateAttributes = null;
            if (attributes.ValueKind == JsonValueKind.Object && attributes.TryGetProperty("brightness", out var brightness) && brightness.ValueKind == JsonValueKind.Number)
            {
                stateAttributes = new() { ["brightness"] = brightness.GetRawText() };
            }
            return new(null, extra, new DeviceStateChanged(homeId, device.DeviceId, state, stateAttributes), null);
        }
        return extra is null ? new(null, null, null, "not-numeric") : new(null, extra, null, null);
    }

    /// <summary>Numeric attributes the device has a capability for.</summary>
    private static List<SensorReading>? Attributes(ExternalDevice device, JsonElement attributes, DateTimeOffset timestamp)
    {
        if (attributes.ValueKind != JsonValueKind.Object || device.Capabilities.Count == 0)
        {
            return null;
        }
        List<SensorReading>? result = null;
        foreach (var property in attributes.EnumerateObject())
        {
            if (property.Value.ValueKind == JsonValueKind.Number && AttributeMetrics.TryGetValue(property.Name, out var mapped)
                && property.Value.TryGetDouble(out var value) && double.IsFinite(value) && HasMetric(device, mapped.Metric))
            {
                (result ??= []).Add(new SensorReading(device.DeviceId, mapped.Metric, value, mapped.Unit, timestamp));
            }
        }
        return result;
    }

    private static bool HasMetric(ExternalDevice device, string metric)
    {
        foreach (var capability in device.Capabilities)
        {
            if (capability.Metric == metric)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>How to register an entity as a device, or null when HomeIQ has no use for it (a text sensor, the sun…).</summary>
    public static ExternalDeviceRegistration? Describe(string entityId, string state, JsonElement attributes)
    {
        var domain = Domain(entityId);
        var name = String(attributes, "friendly_name") is { Length: > 0 } friendly ? friendly.Trim() : entityId;
        name = name.Length > 100 ? name[..100] : name;
        var capabilities = new List<DeviceCapability>();
        string kind;
        if (NumericDomains.Contains(domain) && TryNumber(state, out _))
        {
            kind = "sensor";
            var metric = Metric(entityId, attributes, null);
            capabilities.Add(new DeviceCapability(metric.Length > 100 ? metric[..100] : metric, Truncate(String(attributes, "unit_of_measurement")), null, null, false));
        }
        else if (StateDomains.Contains(domain))
        {
            kind = domain == "light" ? "dimmer" : "switch";
            capabilities.Add(new DeviceCapability("state", null, null, null, domain is not ("binary_sensor")));
        }
        else
        {
            return null;
        }
        if (attributes.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in attributes.EnumerateObject())
            {
                if (property.Value.ValueKind == JsonValueKind.Number && AttributeMetrics.TryGetValue(property.Name, out var mapped)
                    && !capabilities.Exists(c => c.Metric == mapped.Metric))
                {
                    capabilities.Add(new DeviceCapability(mapped.Metric, mapped.Unit, null, null, false));
                }
            }
        }
        return new ExternalDeviceRegistration(entityId, name, kind, capabilities);
    }

    private static string? Truncate(string? unit) => unit is { Length: > 32 } ? unit[..32] : unit;
}
