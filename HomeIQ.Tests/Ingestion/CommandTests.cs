using System.Text.Json;
using HomeIQ.Contracts;
using StackExchange.Redis;

namespace HomeIQ.Tests.Ingestion;

/// <summary>
/// Device commands as request-reply over the broker, through two ingestion replicas to a scripted hub on the stream: the hub answers,
/// fails or ignores; no hub; a command consumed by the replica without the connection; a redelivered command; bad answers from the hub.
/// </summary>
[Collection(CommandCollection.Name)]
public sealed class CommandTests(CommandFixture fixture)
{
    private static Dictionary<string, JsonElement> Parameters(object value) =>
        JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(JsonSerializer.Serialize(value))!;

    [Fact]
    public async Task ACommandTheHubCarriesOutIsRepliedWithTheStateItReported()
    {
        var home = await fixture.NewHubHomeAsync();
        await using var requester = await fixture.RequesterAsync();
        await using var hub = await ScriptedHub.ConnectAsync(fixture, home);
        hub.Answer = ScriptedHub.Succeed("on", new() { ["brightness"] = 200, ["mode"] = "warm" });

        var command = requester.Command(home.HomeId, home.DeviceId, "set", parameters: Parameters(new { brightness = 200 }));
        await requester.PublishAsync(command);
        var reply = await requester.ReplyToAsync(command.CommandId);

        Assert.Equal(CommandOutcome.Succeeded, reply.Outcome);
        Assert.Equal((home.HomeId, home.DeviceId, "on"), (reply.HomeId, reply.DeviceId, reply.State));
        Assert.Equal(new Dictionary<string, string> { ["brightness"] = "200", ["mode"] = "warm" }, reply.Attributes);
        Assert.Null(reply.Reason);
        var sent = Assert.Single(hub.Commands);
        Assert.Equal(command.CommandId, sent.GetProperty("commandId").GetGuid());
        Assert.Equal(home.DeviceId, sent.GetProperty("deviceId").GetGuid());
        Assert.Equal("set", sent.GetProperty("action").GetString());
        Assert.Equal(200, sent.GetProperty("parameters").GetProperty("brightness").GetInt32());
        Assert.Equal(command.Deadline, sent.GetProperty("deadline").GetDateTimeOffset());
    }

    [Fact]
    public async Task ACommandTheHubFailsIsRepliedFailedWithTheHubsMessage()
    {
        var home = await fixture.NewHubHomeAsync();
        await using var requester = await fixture.RequesterAsync();
        await using var hub = await ScriptedHub.ConnectAsync(fixture, home);
        hub.Answer = ScriptedHub.Fail("The relay is stuck.");

        var command = requester.Command(home.HomeId, home.DeviceId, "toggle");
        await requester.PublishAsync(command);
        var reply = await requester.ReplyToAsync(command.CommandId);

        Assert.Equal(CommandOutcome.Failed, reply.Outcome);
        Assert.Equal("The relay is stuck.", reply.Reason);
        Assert.Single(hub.CommandsOf(command.CommandId));
    }

    [Fact]
    public async Task ACommandTheHubIgnoresTimesOutAtItsDeadline()
    {
        var home = await fixture.NewHubHomeAsync();
        await using var requester = await fixture.RequesterAsync();
        await using var hub = await ScriptedHub.ConnectAsync(fixture, home);
        hub.Answer = _ => null;

        var command = requester.Command(home.HomeId, home.DeviceId, deadline: TimeSpan.FromSeconds(3));
        await requester.PublishAsync(command);
        var reply = await requester.ReplyToAsync(command.CommandId);

        Assert.Equal(CommandOutcome.TimedOut, reply.Outcome);
        Assert.NotNull(reply.Reason);
        Assert.Single(hub.CommandsOf(command.CommandId));
    }

    [Fact]
    public async Task ACommandWhoseHubDisconnectsBeforeAnsweringFailsBeforeItsDeadline()
    {
        var home = await fixture.NewHubHomeAsync();
        await using var requester = await fixture.RequesterAsync();
        var hub = await ScriptedHub.ConnectAsync(fixture, home);
        hub.Answer = _ => null;

        var command = requester.Command(home.HomeId, home.DeviceId, deadline: TimeSpan.FromMinutes(2));
        await requester.PublishAsync(command);
        while (hub.CommandsOf(command.CommandId).Count == 0)
        {
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
        await hub.DisposeAsync();
        var reply = await requester.ReplyToAsync(command.CommandId);

        Assert.Equal(CommandOutcome.Failed, reply.Outcome);
        Assert.Contains("disconnected", reply.Reason);
        Assert.True(DateTimeOffset.UtcNow < command.Deadline, "the failure waited for the deadline");
    }

    [Fact]
    public async Task ACommandForAHomeWithNoHubConnectedIsNotConnectedWellBeforeItsDeadline()
    {
        var home = await fixture.NewHubHomeAsync();
        await using var requester = await fixture.RequesterAsync();

        var command = requester.Command(home.HomeId, home.DeviceId, deadline: TimeSpan.FromMinutes(2));
        await requester.PublishAsync(command);
        var reply = await requester.ReplyToAsync(command.CommandId);

        Assert.Equal(CommandOutcome.NotConnected, reply.Outcome);
        Assert.Contains("hub", reply.Reason, StringComparison.OrdinalIgnoreCase);
        Assert.True(DateTimeOffset.UtcNow < command.Deadline - TimeSpan.FromSeconds(90), "NotConnected came only close to the deadline");
    }

    [Fact]
    public async Task ACommandForAReplicaThatIsGoneIsNotConnectedWellBeforeItsDeadline()
    {
        var home = await fixture.NewHubHomeAsync();
        await using var requester = await fixture.RequesterAsync();
        // The registry still names a replica that crashed a moment ago (its entry has not expired), but its queue went with it.
        await using var redis = await ConnectionMultiplexer.ConnectAsync((await fixture.App.GetConnectionStringAsync("cache", TestContext.Current.CancellationToken))!);
        await redis.GetDatabase().SortedSetAddAsync($"homeiq:ingestion:commands:hubs:{home.HomeId}", "crashed-replica",
            DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeMilliseconds());

        var command = requester.Command(home.HomeId, home.DeviceId, deadline: TimeSpan.FromMinutes(2));
        await requester.PublishAsync(command);
        var reply = await requester.ReplyToAsync(command.CommandId);

        Assert.Equal(CommandOutcome.NotConnected, reply.Outcome);
        Assert.Contains("replica", reply.Reason);
        Assert.True(DateTimeOffset.UtcNow < command.Deadline - TimeSpan.FromSeconds(90), "NotConnected came only close to the deadline");
    }

    [Fact]
    public async Task ACommandPastItsDeadlineOnArrivalTimesOutWithoutReachingTheHub()
    {
        var home = await fixture.NewHubHomeAsync();
        await using var requester = await fixture.RequesterAsync();
        await using var hub = await ScriptedHub.ConnectAsync(fixture, home);

        var expired = requester.Command(home.HomeId, home.DeviceId, deadline: TimeSpan.FromSeconds(-1));
        await requester.PublishAsync(expired);
        Assert.Equal(CommandOutcome.TimedOut, (await requester.ReplyToAsync(expired.CommandId)).Outcome);
        var next = requester.Command(home.HomeId, home.DeviceId);
        await requester.PublishAsync(next);
        Assert.Equal(CommandOutcome.Succeeded, (await requester.ReplyToAsync(next.CommandId)).Outcome);

        Assert.Empty(hub.CommandsOf(expired.CommandId));
    }

    [Fact]
    public async Task CommandsConsumedByEitherReplicaReachTheHubConnectedToOne()
    {
        var home = await fixture.NewHubHomeAsync();
        await using var requester = await fixture.RequesterAsync();
        await using var hub = await ScriptedHub.ConnectAsync(fixture, home);
        // Both replicas consume the shared queue, and the broker deals deliveries out in turn: about half of these land on the replica
        // that does not hold the hub's stream and must hand them over.
        Assert.Equal(2u, await requester.ConsumersOfAsync("ingestion"));

        var commands = Enumerable.Range(0, 12).Select(_ => requester.Command(home.HomeId, home.DeviceId)).ToList();
        await Task.WhenAll(commands.Select(requester.PublishAsync));
        var replies = new List<DeviceCommandCompleted>();
        foreach (var command in commands)
        {
            replies.Add(await requester.ReplyToAsync(command.CommandId));
        }

        Assert.All(replies, r => Assert.Equal(CommandOutcome.Succeeded, r.Outcome));
        Assert.Equal(commands.Select(c => c.CommandId).Order(), hub.Commands.Select(c => c.GetProperty("commandId").GetGuid()).Order());
    }

    [Fact]
    public async Task ARedeliveredCommandIsSentToTheHubOnceAndRepliedOnce()
    {
        var home = await fixture.NewHubHomeAsync();
        await using var requester = await fixture.RequesterAsync();
        await using var hub = await ScriptedHub.ConnectAsync(fixture, home);

        var command = requester.Command(home.HomeId, home.DeviceId);
        await requester.PublishAsync(command);
        await requester.PublishAsync(command);
        Assert.Equal(CommandOutcome.Succeeded, (await requester.ReplyToAsync(command.CommandId)).Outcome);
        await requester.PublishAsync(command);
        // A later command through the same path: by its reply the copies before it were handled.
        var marker = requester.Command(home.HomeId, home.DeviceId);
        await requester.PublishAsync(marker);
        await requester.ReplyToAsync(marker.CommandId);

        Assert.Single(hub.CommandsOf(command.CommandId));
        Assert.Single(requester.Replies, r => r.CommandId == command.CommandId);
    }

    [Fact]
    public async Task AMalformedCommandResultGetsAnErrorFrameAndTheStreamCarriesOn()
    {
        var home = await fixture.NewHubHomeAsync();
        await using var requester = await fixture.RequesterAsync();
        await using var hub = await ScriptedHub.ConnectAsync(fixture, home);

        await hub.SendTextAsync("""{"type":"command-result","commandId":"not-a-guid","success":true}""");
        await hub.SendTextAsync("""{"type":"command-result","success":"yes"}""");
        await hub.SendTextAsync("""{"type":"reboot"}""");
        // An answer to a command nobody is waiting for is ignored, without an error.
        await hub.SendTextAsync($$"""{"type":"command-result","commandId":"{{Guid.NewGuid()}}","success":true}""");
        var command = requester.Command(home.HomeId, home.DeviceId);
        await requester.PublishAsync(command);
        var reply = await requester.ReplyToAsync(command.CommandId);

        Assert.Equal(CommandOutcome.Succeeded, reply.Outcome);
        // The command comes through the broker, not after the hub's frames: its reply can arrive before the server has read them all.
        List<string?> errors;
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while ((errors = [.. hub.Others.Where(m => m.GetProperty("type").GetString() == "error").Select(m => m.GetProperty("message").GetString())]).Count < 3
               && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
        Assert.Equal(3, errors.Count);
        Assert.Contains("command-result", errors[0]);
        Assert.Contains("reboot", errors[2]);
    }
}
