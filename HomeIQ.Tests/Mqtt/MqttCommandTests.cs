using System.Text.Json;
using HomeIQ.Contracts;
using HomeIQ.Tests.Hosting;
using HomeIQ.Tests.Ingestion;
using HomeIQ.Tests.Integration;

namespace HomeIQ.Tests.Mqtt;

/// <summary>
/// <c>device.command.v1</c> for MQTT devices, through RabbitMQ and Ingestion to scripted Zigbee2MQTT, Tasmota and Shelly devices on the real
/// Mosquitto: the command arrives on the device's command topic, and the device's next state message is the reply.
/// </summary>
[Collection(MqttCollection.Name)]
public sealed class MqttCommandTests(MqttFixture fixture)
{
    [Fact]
    public async Task AZigbee2MqttLightGetsItsSetPayloadAndItsNextStateIsTheReply()
    {
        var ct = TestApps.Timeout();
        var name = $"lamp-{Guid.NewGuid():N}"[..13];
        await using var lamp = await DeviceAsync($"zigbee2mqtt/{name}", """{"state":"OFF","brightness":10}""", $"zigbee2mqtt/{name}/set", ct);
        await using var requester = await CommandRequester.ConnectAsync(fixture.App);

        var command = requester.Command(fixture.HomeId, lamp.DeviceId, "set", parameters: Parameters(new { brightness = 200, state = "ON" }));
        await requester.PublishAsync(command);
        var sent = await ArrivesAsync(lamp.Client, requester, command, ct);
        await lamp.Client.PublishAsync($"zigbee2mqtt/{name}", """{"state":"ON","brightness":200,"linkquality":90}""", ct);
        var reply = await requester.ReplyToAsync(command.CommandId);

        Assert.Equal(JsonSerializer.Serialize(Parameters(new { brightness = 200, state = "ON" })), sent);
        Assert.Equal((CommandOutcome.Succeeded, "on"), (reply.Outcome, reply.State));
        Assert.Equal("200", reply.Attributes?["brightness"]);
    }

    [Fact]
    public async Task ATasmotaPlugIsSwitchedByPowerAndAnsweredByItsResult()
    {
        var ct = TestApps.Timeout();
        var topic = $"plug-{Guid.NewGuid():N}"[..13];
        await using var plug = await DeviceAsync($"stat/{topic}/POWER", "ON", $"cmnd/{topic}/POWER", ct);
        await using var requester = await CommandRequester.ConnectAsync(fixture.App);

        var off = requester.Command(fixture.HomeId, plug.DeviceId, "turn_off");
        await requester.PublishAsync(off);
        var sent = await ArrivesAsync(plug.Client, requester, off, ct);
        await plug.Client.PublishAsync($"stat/{topic}/RESULT", """{"POWER":"OFF"}""", ct);
        var reply = await requester.ReplyToAsync(off.CommandId);

        // A plug that stays on after turn_on… of course; one that stays on after turn_off has failed.
        var stuck = requester.Command(fixture.HomeId, plug.DeviceId, "turn_off");
        await requester.PublishAsync(stuck);
        await ArrivesAsync(plug.Client, requester, stuck, ct);
        await plug.Client.PublishAsync($"stat/{topic}/POWER", "ON", ct);
        var stuckReply = await requester.ReplyToAsync(stuck.CommandId);

        Assert.Equal("OFF", sent);
        Assert.Equal((CommandOutcome.Succeeded, "off"), (reply.Outcome, reply.State));
        Assert.Equal((CommandOutcome.Failed, "on"), (stuckReply.Outcome, stuckReply.State));
    }

    [Fact]
    public async Task AShellySwitchGetsAnRpcRequestAndItsStatusIsTheReply()
    {
        var ct = TestApps.Timeout();
        var id = $"shellyplus1pm-{Guid.NewGuid():N}"[..22];
        await using var shelly = await DeviceAsync($"{id}/status/switch:0", """{"id":0,"output":false,"apower":0}""", $"{id}/rpc", ct);
        await using var requester = await CommandRequester.ConnectAsync(fixture.App);

        var on = requester.Command(fixture.HomeId, shelly.DeviceId, "turn_on");
        await requester.PublishAsync(on);
        var sent = await ArrivesAsync(shelly.Client, requester, on, ct);
        await shelly.Client.PublishAsync($"{id}/status/switch:0", """{"id":0,"output":true,"apower":42.5}""", ct);
        var reply = await requester.ReplyToAsync(on.CommandId);

        using var rpc = JsonDocument.Parse(sent);
        Assert.Equal("Switch.Set", rpc.RootElement.GetProperty("method").GetString());
        Assert.Equal(0, rpc.RootElement.GetProperty("params").GetProperty("id").GetInt32());
        Assert.True(rpc.RootElement.GetProperty("params").GetProperty("on").GetBoolean());
        Assert.False(string.IsNullOrEmpty(rpc.RootElement.GetProperty("src").GetString()));
        Assert.Equal((CommandOutcome.Succeeded, "on"), (reply.Outcome, reply.State));
    }

    [Fact]
    public async Task ADeviceThatDoesNotAnswerTimesOutAtTheDeadlineAndAnUnsupportedCommandFails()
    {
        var ct = TestApps.Timeout();
        var name = $"mute-{Guid.NewGuid():N}"[..13];
        await using var mute = await DeviceAsync($"zigbee2mqtt/{name}", """{"state":"OFF"}""", $"zigbee2mqtt/{name}/set", ct);
        var shellyId = $"shelly-{Guid.NewGuid():N}"[..15];
        await using var shelly = await DeviceAsync($"{shellyId}/status/switch:1", """{"id":1,"output":false}""", $"{shellyId}/rpc", ct);
        await using var requester = await CommandRequester.ConnectAsync(fixture.App);

        var ignored = requester.Command(fixture.HomeId, mute.DeviceId, "turn_on", deadline: TimeSpan.FromSeconds(3));
        await requester.PublishAsync(ignored);
        await ArrivesAsync(mute.Client, requester, ignored, ct); // it arrives, and the device says nothing
        var started = DateTimeOffset.UtcNow;
        var timedOut = await requester.ReplyToAsync(ignored.CommandId);
        var unsupported = requester.Command(fixture.HomeId, shelly.DeviceId, "set", parameters: Parameters(new { brightness = 5 }));
        await requester.PublishAsync(unsupported);
        var failed = await requester.ReplyToAsync(unsupported.CommandId);

        Assert.Equal(CommandOutcome.TimedOut, timedOut.Outcome);
        Assert.True(DateTimeOffset.UtcNow >= ignored.Deadline - TimeSpan.FromMilliseconds(100), $"answered {ignored.Deadline - started} before the deadline");
        Assert.Equal(CommandOutcome.Failed, failed.Outcome);
        Assert.Contains("turn_on", failed.Reason);
    }

    [Fact]
    public async Task AHomeUnderATopicPrefixGetsItsOwnDevicesAndItsCommandsOnItsPrefixedTopics()
    {
        var ct = TestApps.Timeout();
        var name = $"lamp-{Guid.NewGuid():N}"[..13];
        var prefixed = $"{MqttFixture.FlatPrefix}zigbee2mqtt/{name}";
        await using var client = await fixture.DeviceAsync(ct);
        await client.SubscribeAsync($"{prefixed}/set", ct);
        await client.PublishAsync(prefixed, """{"state":"OFF","temperature":19.5}""", ct);
        var deviceId = await fixture.DeviceIdAsync($"mqtt:zigbee2mqtt/{name}", ct, fixture.FlatId);
        await using var requester = await CommandRequester.ConnectAsync(fixture.App);

        var on = requester.Command(fixture.FlatId, deviceId, "turn_on");
        await requester.PublishAsync(on);
        var (topic, sent) = await ArrivesOnAsync(client, requester, on, ct);
        await client.PublishAsync(prefixed, """{"state":"ON","temperature":19.5}""", ct);
        var reply = await requester.ReplyToAsync(on.CommandId);

        Assert.DoesNotContain($"mqtt:zigbee2mqtt/{name}", (await fixture.DevicesByExternalIdAsync(ct)).Keys); // not in the other home
        Assert.Equal(($"{prefixed}/set", """{"state":"ON"}"""), (topic, sent));
        Assert.Equal((CommandOutcome.Succeeded, "on"), (reply.Outcome, reply.State));
    }

    [Fact]
    public async Task ADiscoveredSwitchGetsItsPayloadOnOnItsCommandTopicAndItsNextStateIsTheReply()
    {
        var ct = TestApps.Timeout();
        var id = Guid.NewGuid().ToString("N")[..8];
        await using var announcer = await DiscoveryDevice.ConnectAsync(fixture.Broker, ct);
        await announcer.PublishRetainedAsync($"homeassistant/switch/plug-{id}/config", $$"""
            {"name":"Plug {{id}}","stat_t":"homeiq-test/plug-{{id}}/state","cmd_t":"homeiq-test/plug-{{id}}/set","pl_on":"1","pl_off":"0","uniq_id":"plug-{{id}}"}
            """, ct);
        await using var plug = await fixture.DeviceAsync(ct);
        await plug.SubscribeAsync($"homeiq-test/plug-{id}/set", ct);
        var reporting = announcer.Report($"homeiq-test/plug-{id}/state", "0", ct);
        var deviceId = await fixture.DeviceIdAsync($"mqtt:ha/plug-{id}", ct);
        await reporting.StopAsync();
        reporting.Dispose();
        await using var requester = await CommandRequester.ConnectAsync(fixture.App);

        var on = requester.Command(fixture.HomeId, deviceId, "turn_on");
        await requester.PublishAsync(on);
        var sent = await ArrivesAsync(plug, requester, on, ct);
        await plug.PublishAsync($"homeiq-test/plug-{id}/state", "1", ct);
        var reply = await requester.ReplyToAsync(on.CommandId);
        await announcer.ClearAsync(ct);

        Assert.Equal("1", sent);
        Assert.Equal((CommandOutcome.Succeeded, "on"), (reply.Outcome, reply.State));
    }

    private static async Task<string> ArrivesAsync(MqttTestClient device, CommandRequester requester, DeviceCommandRequested command, CancellationToken ct) =>
        (await ArrivesOnAsync(device, requester, command, ct)).Payload;

    /// <summary>The command as the device received it; when it does not arrive, the test fails with what Ingestion answered instead.</summary>
    private static async Task<(string Topic, string Payload)> ArrivesOnAsync(MqttTestClient device, CommandRequester requester, DeviceCommandRequested command, CancellationToken ct)
    {
        try
        {
            return await device.NextAsync(ct);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            var reply = await requester.ReplyToAsync(command.CommandId);
            Assert.Fail($"The command did not reach the device within 20 s; Ingestion answered {reply.Outcome}: {reply.Reason}");
            throw;
        }
    }

    private static Dictionary<string, JsonElement> Parameters(object value) =>
        JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(JsonSerializer.Serialize(value))!;

    /// <summary>A scripted device: registered from its first state message, listening on its command topic.</summary>
    private async Task<ScriptedDevice> DeviceAsync(string stateTopic, string state, string commandTopic, CancellationToken ct)
    {
        var client = await fixture.DeviceAsync(ct);
        await client.SubscribeAsync(commandTopic, ct);
        await client.PublishAsync(stateTopic, state, ct);
        var externalId = "mqtt:" + (stateTopic.Split('/') switch
        {
            ["stat", var topic, "POWER"] => $"tasmota/{topic}",
            [var id, "status", var component] => $"shelly/{id}/{component}",
            _ => stateTopic,
        });
        return new ScriptedDevice(client, await fixture.DeviceIdAsync(externalId, ct));
    }

    private sealed record ScriptedDevice(MqttTestClient Client, Guid DeviceId) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Client.DisposeAsync();
    }
}
