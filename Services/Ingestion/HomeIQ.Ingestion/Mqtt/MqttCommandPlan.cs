using System.Globalization;
using System.Text;
using System.Text.Json;
using HomeIQ.Contracts;
using HomeIQ.Ingestion.Commands;

namespace HomeIQ.Ingestion.Mqtt;

/// <summary>
/// How a command reaches an MQTT device and how its answer looks: the topic and payload to publish, the topics the device reports its
/// state on, and how one such message settles the command. Pure: no I/O, no clock.
/// <list type="bullet">
/// <item>Zigbee2MQTT: <c>zigbee2mqtt/&lt;name&gt;/set</c> with <c>{"state":"ON"}</c> (OFF, TOGGLE), or the parameters for <c>set</c>
/// (<c>{"brightness":128}</c>); answered by the next <c>zigbee2mqtt/&lt;name&gt;</c> message.</item>
/// <item>Tasmota: <c>cmnd/&lt;topic&gt;/POWER</c> with <c>ON</c>, <c>OFF</c> or <c>TOGGLE</c>, or <c>cmnd/&lt;topic&gt;/Dimmer</c> for
/// <c>set</c> with <c>dimmer</c>; answered by <c>stat/&lt;topic&gt;/RESULT</c> or <c>stat/&lt;topic&gt;/POWER</c>.</item>
/// <item>Shelly Gen2: an RPC request on <c>&lt;id&gt;/rpc</c> (<c>Switch.Set</c>, <c>Switch.Toggle</c>); answered by the next
/// <c>&lt;id&gt;/status/switch:N</c>.</item>
/// </list>
/// A <c>turn_on</c> or <c>turn_off</c> answered with the other state failed.
/// </summary>
internal sealed record MqttCommandPlan(string Topic, byte[] Payload, IReadOnlyList<string> ReplyTopics, Func<string, ReadOnlyMemory<byte>, CommandResult?> Settle)
{
    /// <summary>
    /// The plan for a command to the device with <paramref name="externalId"/>, or the reason it cannot be sent; the topics are under
    /// <paramref name="topicPrefix"/>, the home's on a shared broker.
    /// </summary>
    public static (MqttCommandPlan? Plan, string? Problem) For(
        string externalId, DeviceCommandRequested command, string rpcSource, string topicPrefix = "", DiscoveredEntity? discovered = null)
    {
        if (discovered is not null)
        {
            return Discovered(discovered, command); // its topics are whole topics, prefix included
        }
        var (plan, problem) = Unprefixed(externalId, command, rpcSource);
        if (plan is null || topicPrefix.Length == 0)
        {
            return (plan, problem);
        }
        var settle = plan.Settle;
        return (new(topicPrefix + plan.Topic, plan.Payload, [.. plan.ReplyTopics.Select(t => topicPrefix + t)],
            (topic, message) => topic.StartsWith(topicPrefix, StringComparison.Ordinal) ? settle(topic[topicPrefix.Length..], message) : null), null);
    }

    private static (MqttCommandPlan? Plan, string? Problem) Unprefixed(string externalId, DeviceCommandRequested command, string rpcSource)
    {
        ArgumentNullException.ThrowIfNull(externalId);
        ArgumentNullException.ThrowIfNull(command);
        var path = externalId.StartsWith("mqtt:", StringComparison.Ordinal) ? externalId["mqtt:".Length..] : null;
        return path?.Split('/') switch
        {
            ["zigbee2mqtt", .. var name] when name.Length > 0 => Zigbee2Mqtt(string.Join('/', name), command),
            ["tasmota", { Length: > 0 } topic] => Tasmota(topic, command),
            ["shelly", { Length: > 0 } device, var component] when component.StartsWith("switch:", StringComparison.Ordinal)
                && int.TryParse(component["switch:".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var channel) => Shelly(device, component, channel, command, rpcSource),
            _ => (null, $"HomeIQ cannot send commands to the MQTT device '{externalId}'."),
        };
    }

    private static (MqttCommandPlan?, string?) Zigbee2Mqtt(string name, DeviceCommandRequested command)
    {
        string payload;
        if (command.Action == DeviceCommands.Set)
        {
            if (command.Parameters is not { Count: > 0 } parameters)
            {
                return (null, "A set command to a Zigbee2MQTT device needs parameters, e.g. {\"brightness\":128}.");
            }
            payload = JsonSerializer.Serialize(parameters);
        }
        else
        {
            payload = $$"""{"state":"{{OnOffToggle(command.Action)}}"}""";
        }
        var stateTopic = $"zigbee2mqtt/{name}";
        return (new($"{stateTopic}/set", Encoding.UTF8.GetBytes(payload), [stateTopic], (topic, message) => Settled(command, topic, message)), null);
    }

    private static (MqttCommandPlan?, string?) Tasmota(string topic, DeviceCommandRequested command)
    {
        string commandTopic, payload;
        if (command.Action == DeviceCommands.Set)
        {
            if (command.Parameters?.GetValueOrDefault("dimmer") is not { ValueKind: JsonValueKind.Number } dimmer)
            {
                return (null, "A set command to a Tasmota device takes a number 'dimmer' (0-100).");
            }
            (commandTopic, payload) = ($"cmnd/{topic}/Dimmer", dimmer.GetRawText());
        }
        else
        {
            (commandTopic, payload) = ($"cmnd/{topic}/POWER", OnOffToggle(command.Action));
        }
        string[] replies = [$"stat/{topic}/RESULT", $"stat/{topic}/POWER"];
        return (new(commandTopic, Encoding.UTF8.GetBytes(payload), replies, (replyTopic, message) => replyTopic.EndsWith("/RESULT", StringComparison.Ordinal)
            ? TasmotaResult(command, message)
            : Settled(command, replyTopic, message)), null);
    }

    private static (MqttCommandPlan?, string?) Shelly(string device, string component, int channel, DeviceCommandRequested command, string rpcSource)
    {
        var request = command.Action switch
        {
            DeviceCommands.TurnOn or DeviceCommands.TurnOff => new { id = 1, src = rpcSource, method = "Switch.Set", @params = (object)new { id = channel, on = command.Action == DeviceCommands.TurnOn } },
            DeviceCommands.Toggle => new { id = 1, src = rpcSource, method = "Switch.Toggle", @params = (object)new { id = channel } },
            _ => null,
        };
        if (request is null)
        {
            return (null, "A Shelly switch takes turn_on, turn_off and toggle.");
        }
        var stateTopic = $"{device}/status/{component}";
        return (new($"{device}/rpc", JsonSerializer.SerializeToUtf8Bytes(request), [stateTopic], (topic, message) => Settled(command, topic, message)), null);
    }

    /// <summary>
    /// A Home Assistant discovery entity with a <c>command_topic</c> (a switch or a light): its <c>payload_on</c> or <c>payload_off</c>,
    /// answered by its next state message.
    /// </summary>
    private static (MqttCommandPlan?, string?) Discovered(DiscoveredEntity entity, DeviceCommandRequested command)
    {
        if (entity.CommandTopic is not { Length: > 0 } commandTopic || !entity.IsOnOff)
        {
            return (null, $"The Home Assistant discovery config of '{entity.ExternalId}' gives no command topic.");
        }
        var payload = command.Action switch
        {
            DeviceCommands.TurnOn => entity.PayloadOn,
            DeviceCommands.TurnOff => entity.PayloadOff,
            _ => null,
        };
        if (payload is null)
        {
            return (null, "A Home Assistant discovery switch or light takes turn_on and turn_off.");
        }
        return (new(commandTopic, Encoding.UTF8.GetBytes(payload), [entity.StateTopic], (_, message) =>
            HomeAssistantDiscovery.MapState(entity, message.Span).Message?.State is { } state ? Outcome(command, state, null) : null), null);
    }

    private static string OnOffToggle(string action) => action switch
    {
        DeviceCommands.TurnOn => "ON",
        DeviceCommands.TurnOff => "OFF",
        _ => "TOGGLE",
    };

    /// <summary>A state message through the mapper: its state, and its top-level numbers as attributes; null when it carries no state.</summary>
    private static CommandResult? Settled(DeviceCommandRequested command, string topic, ReadOnlyMemory<byte> message)
    {
        var mapping = MqttMapper.Map(topic, message.Span);
        if (mapping.Message?.State is not { } state)
        {
            return null;
        }
        return Outcome(command, state, Attributes(message.Span));
    }

    /// <summary><c>{"POWER":"ON","Dimmer":40}</c>: the answer to POWER and Dimmer commands.</summary>
    private static CommandResult? TasmotaResult(DeviceCommandRequested command, ReadOnlyMemory<byte> message)
    {
        try
        {
            using var json = JsonDocument.Parse(message);
            if (json.RootElement.ValueKind != JsonValueKind.Object
                || !(json.RootElement.TryGetProperty("POWER", out var power) || json.RootElement.TryGetProperty("POWER1", out power))
                || power.ValueKind != JsonValueKind.String)
            {
                return null;
            }
            var state = power.GetString()?.ToUpperInvariant() switch { "ON" => "on", "OFF" => "off", _ => null };
            return state is null ? null : Outcome(command, state, Attributes(message.Span));
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static CommandResult Outcome(DeviceCommandRequested command, string state, IReadOnlyDictionary<string, string>? attributes)
    {
        var wanted = command.Action switch { DeviceCommands.TurnOn => "on", DeviceCommands.TurnOff => "off", _ => null };
        return wanted is null || wanted == state
            ? new(CommandOutcome.Succeeded, null, state, attributes)
            : new(CommandOutcome.Failed, $"The device reported '{state}' after the command.", state, attributes);
    }

    private static Dictionary<string, string>? Attributes(ReadOnlySpan<byte> message)
    {
        try
        {
            using var json = JsonDocument.Parse(message.ToArray());
            if (json.RootElement.ValueKind != JsonValueKind.Object)
            {
                return null;
            }
            var numbers = json.RootElement.EnumerateObject()
                .Where(p => p.Value.ValueKind == JsonValueKind.Number)
                .ToDictionary(p => p.Name.ToLowerInvariant(), p => p.Value.GetRawText(), StringComparer.Ordinal);
            return numbers.Count > 0 ? numbers : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
