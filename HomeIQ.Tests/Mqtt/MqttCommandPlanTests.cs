using System.Text;
using System.Text.Json;
using HomeIQ.Contracts;
using HomeIQ.Ingestion.Mqtt;

namespace HomeIQ.Tests.Mqtt;

/// <summary>Which topic and payload a command becomes for each kind of MQTT device, and which messages answer it.</summary>
public sealed class MqttCommandPlanTests
{
    private static DeviceCommandRequested Command(string action, object? parameters = null) => new(
        Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), action,
        parameters is null ? null : JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(JsonSerializer.Serialize(parameters)),
        DateTimeOffset.UtcNow.AddSeconds(10), "replies");

    private static MqttCommandPlan Plan(string externalId, DeviceCommandRequested command)
    {
        var (plan, problem) = MqttCommandPlan.For(externalId, command, "homeiq-rpc");
        Assert.True(plan is not null, problem);
        return plan;
    }

    [Theory]
    [InlineData("turn_on", """{"state":"ON"}""")]
    [InlineData("turn_off", """{"state":"OFF"}""")]
    [InlineData("toggle", """{"state":"TOGGLE"}""")]
    public void Zigbee2MqttSwitchesByStateOnTheSetTopicOfANameWithSlashes(string action, string payload)
    {
        var plan = Plan("mqtt:zigbee2mqtt/kitchen/ceiling", Command(action));

        Assert.Equal(("zigbee2mqtt/kitchen/ceiling/set", payload), (plan.Topic, Encoding.UTF8.GetString(plan.Payload)));
        Assert.Equal(["zigbee2mqtt/kitchen/ceiling"], plan.ReplyTopics);
    }

    [Fact]
    public void TasmotaTakesPowerAndDimmerAndIsAnsweredByResultOrPower()
    {
        var toggle = Plan("mqtt:tasmota/plug", Command("toggle"));
        var dim = Plan("mqtt:tasmota/plug", Command("set", new { dimmer = 40 }));
        var (missing, problem) = MqttCommandPlan.For("mqtt:tasmota/plug", Command("set", new { brightness = 40 }), "homeiq-rpc");

        Assert.Equal(("cmnd/plug/POWER", "TOGGLE"), (toggle.Topic, Encoding.UTF8.GetString(toggle.Payload)));
        Assert.Equal(("cmnd/plug/Dimmer", "40"), (dim.Topic, Encoding.UTF8.GetString(dim.Payload)));
        Assert.Equal(["stat/plug/RESULT", "stat/plug/POWER"], toggle.ReplyTopics);
        Assert.Equal(("on", "40"), Settle(dim, "stat/plug/RESULT", """{"POWER":"ON","Dimmer":40}""") is { } r ? (r.State, r.Attributes!["dimmer"]) : default);
        Assert.Null(Settle(dim, "stat/plug/RESULT", """{"Timer":1}""")); // a RESULT of something else is no answer
        Assert.Null(missing);
        Assert.Contains("dimmer", problem);
    }

    [Fact]
    public void ShellyGetsAnRpcRequestForItsChannelAndIsAnsweredByItsSwitchStatus()
    {
        var plan = Plan("mqtt:shelly/shellyplus2pm-a1/switch:1", Command("turn_off"));
        using var request = JsonDocument.Parse(plan.Payload);

        Assert.Equal("shellyplus2pm-a1/rpc", plan.Topic);
        Assert.Equal(("Switch.Set", "homeiq-rpc", 1, false), (
            request.RootElement.GetProperty("method").GetString(), request.RootElement.GetProperty("src").GetString(),
            request.RootElement.GetProperty("params").GetProperty("id").GetInt32(), request.RootElement.GetProperty("params").GetProperty("on").GetBoolean()));
        Assert.Equal(["shellyplus2pm-a1/status/switch:1"], plan.ReplyTopics);
        Assert.Equal(CommandOutcome.Succeeded, Settle(plan, "shellyplus2pm-a1/status/switch:1", """{"id":1,"output":false}""")?.Outcome);
        Assert.Equal(CommandOutcome.Failed, Settle(plan, "shellyplus2pm-a1/status/switch:1", """{"id":1,"output":true}""")?.Outcome);
    }

    [Fact]
    public void AMessageWithoutAStateIsNoAnswerAndADeviceWithoutACommandPathIsAProblem()
    {
        var plan = Plan("mqtt:zigbee2mqtt/sensor", Command("turn_on"));
        var (none, problem) = MqttCommandPlan.For("mqtt:tasmota/a/b", Command("turn_on"), "homeiq-rpc");

        Assert.Null(Settle(plan, "zigbee2mqtt/sensor", """{"temperature":21}"""));
        Assert.Null(Settle(plan, "zigbee2mqtt/sensor", "not json"));
        Assert.Null(none);
        Assert.Contains("mqtt:tasmota/a/b", problem);
    }

    [Fact]
    public void ADiscoveredSwitchSendsItsOwnPayloadsToItsCommandTopicAndASensorTakesNoCommand()
    {
        var relay = new DiscoveredEntity("homeassistant/switch/r/config", "switch", "r", "Relay", "home/r/state", DiscoveryValuePath.Raw,
            null, null, 1, "1", "0", "home/r/set");
        var sensor = relay with { Component = "sensor", Metric = "temperature", Unit = "°C", CommandTopic = null };

        var (off, _) = MqttCommandPlan.For(relay.ExternalId, Command("turn_off"), "homeiq-rpc", "flat/", relay);
        var (none, problem) = MqttCommandPlan.For(sensor.ExternalId, Command("turn_on"), "homeiq-rpc", "", sensor);

        Assert.Equal(("home/r/set", "0"), (off!.Topic, Encoding.UTF8.GetString(off.Payload))); // whole topics: no prefix added
        Assert.Equal(["home/r/state"], off.ReplyTopics);
        Assert.Equal((CommandOutcome.Succeeded, "off"), Settle(off, "home/r/state", "0") is { } r ? (r.Outcome, r.State) : default);
        Assert.Null(none);
        Assert.Contains("no command topic", problem);
    }

    private static HomeIQ.Ingestion.Commands.CommandResult? Settle(MqttCommandPlan plan, string topic, string payload) =>
        plan.Settle(topic, Encoding.UTF8.GetBytes(payload));
}
