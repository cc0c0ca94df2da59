using System.Text.Json;
using HomeIQ.Contracts;
using HomeIQ.Ingestion.HomeAssistant;
using HomeIQ.Tests.Ingestion;
using Microsoft.Extensions.DependencyInjection;

namespace HomeIQ.Tests.HomeAssistant;

/// <summary>Commands for devices bridged from Home Assistant become <c>call_service</c> calls, answered by Home Assistant's result.</summary>
[Collection(CommandCollection.Name)]
public sealed class HomeAssistantCommandTests(CommandFixture fixture)
{
    [Fact]
    public async Task ACommandForABridgedLightCallsLightTurnOnWithItsParametersAsServiceData()
    {
        var ct = TestContext.Current.CancellationToken;
        var deviceId = await fixture.HomeAssistantDeviceAsync("light.kitchen", ct);
        await using var requester = await fixture.RequesterAsync();

        var command = requester.Command(fixture.HomeAssistantHome, deviceId, "set",
            parameters: new() { ["brightness"] = JsonSerializer.SerializeToElement(128) });
        await requester.PublishAsync(command);
        var reply = await requester.ReplyToAsync(command.CommandId);

        Assert.Equal(CommandOutcome.Succeeded, reply.Outcome);
        Assert.Equal(deviceId, reply.DeviceId);
        var call = Assert.Single(fixture.HomeAssistant.ServiceCalls, c => (int?)c["service_data"]?["brightness"] == 128);
        Assert.Equal("light", (string?)call["domain"]);
        Assert.Equal("turn_on", (string?)call["service"]);
        Assert.Equal("light.kitchen", (string?)call["target"]?["entity_id"]);
    }

    [Fact]
    public async Task AnErrorFromHomeAssistantFailsTheCommandWithItsMessage()
    {
        var ct = TestContext.Current.CancellationToken;
        var deviceId = await fixture.HomeAssistantDeviceAsync("switch.heater", ct);
        await using var requester = await fixture.RequesterAsync();
        fixture.HomeAssistant.OnCallService = entity => entity == "switch.heater" ? ServiceCallAnswer.Fail : ServiceCallAnswer.Succeed;
        try
        {
            var command = requester.Command(fixture.HomeAssistantHome, deviceId, "turn_off");
            await requester.PublishAsync(command);
            var reply = await requester.ReplyToAsync(command.CommandId);

            Assert.Equal(CommandOutcome.Failed, reply.Outcome);
            Assert.Contains(ScriptedHomeAssistant.ServiceCallError, reply.Reason);
            Assert.Contains(fixture.HomeAssistant.ServiceCalls, c => (string?)c["domain"] == "switch" && (string?)c["service"] == "turn_off");
        }
        finally
        {
            fixture.HomeAssistant.OnCallService = _ => ServiceCallAnswer.Succeed;
        }
    }

    [Fact]
    public async Task ACallServiceHomeAssistantNeverAnswersEndsAtTheDeadline()
    {
        await using var server = new ScriptedHomeAssistant();
        await server.StartAsync(TestContext.Current.CancellationToken);
        server.OnCallService = _ => ServiceCallAnswer.Ignore;
        await using var bridge = await BridgeHost.StartAsync(BridgeHost.Settings(server));
        await server.WaitForSubscribedAsync(TestContext.Current.CancellationToken);
        var commands = bridge.Host.Services.GetRequiredService<HomeAssistantCommands>();

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            commands.CallServiceAsync("switch", "toggle", "switch.heater", null, deadline.Token));
        server.OnCallService = _ => ServiceCallAnswer.Succeed;
        var answered = await commands.CallServiceAsync("switch", "toggle", "switch.heater", null, TestContext.Current.CancellationToken);

        Assert.Equal(new ServiceCallResult(true, true, null), answered);
        Assert.Equal(2, server.ServiceCalls.Count);
        // The bridge's session went on after the unanswered call: still subscribed on its first connection.
        Assert.Equal(1, server.Connections);
    }
}
