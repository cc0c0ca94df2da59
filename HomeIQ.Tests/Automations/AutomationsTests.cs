using System.Globalization;
using System.Net;
using System.Text.Json;
using HomeIQ.Contracts;
using HomeIQ.Tests.EventBus;
using HomeIQ.Tests.Integration;
using RabbitMQ.Client;
using static HomeIQ.Tests.Anomalies.AnomaliesClient;
using static HomeIQ.Tests.Automations.AutomationsHome;

namespace HomeIQ.Tests.Automations;

/// <summary>
/// Automations end to end on the assembly-wide AppHost: rules and scenes through the gateway, commands over the broker to Ingestion,
/// delivered to a scripted hub on the stream, replies back over the broker.
/// </summary>
public sealed class AutomationsTests(AppHostFixture fixture)
{
    private async Task<AutomationsHome> HomeAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        await fixture.App.ResourceNotifications.WaitForResourceHealthyAsync("automations", ct);
        await fixture.App.WaitForEveryReplicaHealthyAsync("ingestion", ct);
        return await CreateAsync(fixture.App.CreateHttpClient("gateway"));
    }

    private static string Action(JsonElement command) => command.GetProperty("action").GetString()!;

    [Fact]
    public async Task ASceneSendsItsStepsInOrderOneAtATimeAndRecordsEachOutcome()
    {
        var home = await HomeAsync();
        var (hall, desk) = (await home.AddLampAsync("Hall"), await home.AddLampAsync("Desk"));
        await using var hub = await ScriptedHub.ConnectAsync(home.StreamUri(), home.HubKey, hall);
        var scene = await home.CreateSceneAsync("Evening", Command(hall, "turn_on"), Command(desk, "set", new { brightness = 120 }));

        var run = await home.FinishedRunAsync(await home.RunSceneAsync(scene));

        Assert.Equal("succeeded", run.GetProperty("status").GetString());
        Assert.Equal([("do", hall, "turn_on", "succeeded"), ("do", desk, "set", "succeeded")], Steps(run));
        var commands = hub.Commands.ToArray();
        Assert.Equal([(hall, "turn_on"), (desk, "set")], commands.Select(c => (c.GetProperty("deviceId").GetGuid(), Action(c))));
        Assert.Equal(120, commands[1].GetProperty("parameters").GetProperty("brightness").GetInt32());
        Assert.NotEqual(commands[0].GetProperty("commandId").GetGuid(), commands[1].GetProperty("commandId").GetGuid());
    }

    [Fact]
    public async Task AFailingStepCompensatesTheCompletedStepsInReverseOrderBackToTheirPreviousState()
    {
        var home = await HomeAsync();
        var (a, b, c) = (await home.AddLampAsync("A"), await home.AddLampAsync("B"), await home.AddLampAsync("C"));
        await using var hub = await ScriptedHub.ConnectAsync(home.StreamUri(), home.HubKey, a);
        hub.Script = command => command.GetProperty("deviceId").GetGuid() == b
            ? new HubAnswer(true, State: "on", Attributes: new Dictionary<string, string> { ["brightness"] = "200" })
            : new HubAnswer(true, State: "on");
        var allOn = await home.CreateSceneAsync("All on", Command(a, "turn_on"), Command(b, "turn_on"), Command(c, "turn_on"));
        Assert.Equal("succeeded", (await home.FinishedRunAsync(await home.RunSceneAsync(allOn))).GetProperty("status").GetString());
        hub.Commands.Clear();

        hub.Script = command => command.GetProperty("deviceId").GetGuid() == c
            ? new HubAnswer(false, Message: "bulb unreachable")
            : new HubAnswer(true, State: Action(command) == "turn_off" ? "off" : "on");
        var movie = await home.CreateSceneAsync("Movie", Command(a, "turn_off"), Command(b, "set", new { brightness = 40 }), Command(c, "turn_off"));
        var run = await home.FinishedRunAsync(await home.RunSceneAsync(movie));

        Assert.Equal("compensated", run.GetProperty("status").GetString());
        Assert.Contains("bulb unreachable", run.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal(
            [("do", a, "turn_off", "succeeded"), ("do", b, "set", "succeeded"), ("do", c, "turn_off", "failed"), ("undo", b, "turn_on", "succeeded"), ("undo", a, "turn_on", "succeeded")],
            Steps(run));
        var sent = hub.Commands.ToArray();
        Assert.Equal([(a, "turn_off"), (b, "set"), (c, "turn_off"), (b, "turn_on"), (a, "turn_on")], sent.Select(x => (x.GetProperty("deviceId").GetGuid(), Action(x))));
        Assert.Equal(200, sent[3].GetProperty("parameters").GetProperty("brightness").GetDouble()); // B back to its brightness before the scene
    }

    [Fact]
    public async Task ARepeatedReplyToAStepAlreadyDoneChangesNothing()
    {
        var home = await HomeAsync();
        var (a, b) = (await home.AddLampAsync("A"), await home.AddLampAsync("B"));
        await using var hub = await ScriptedHub.ConnectAsync(home.StreamUri(), home.HubKey, a);
        var scene = await home.CreateSceneAsync("Both on", Command(a, "turn_on"), Command(b, "turn_on"));
        var runId = await home.RunSceneAsync(scene);
        var run = await home.FinishedRunAsync(runId);
        var first = hub.Commands.First();

        // The reply to A again, as a broker redelivery or a confused replica would send it, now saying it failed: A is done already.
        var ct = TestContext.Current.CancellationToken;
        await using var channel = await BusHost.ChannelAsync(fixture.App, ct);
        var replay = new DeviceCommandCompleted(first.GetProperty("commandId").GetGuid(), home.HomeId, a, CommandOutcome.Failed, "replayed");
        await channel.BasicPublishAsync("", "automations", mandatory: true,
            new BasicProperties { Type = EventNames.Of<DeviceCommandCompleted>(), MessageId = replay.Id.ToString(), ContentType = "application/json" },
            JsonSerializer.SerializeToUtf8Bytes(replay, JsonSerializerOptions.Web), ct);
        await Task.Delay(TimeSpan.FromSeconds(3), ct);
        var after = await home.RunAsync(runId);

        Assert.Equal("succeeded", run.GetProperty("status").GetString());
        Assert.Equal("succeeded", after.GetProperty("status").GetString());
        Assert.Equal(Steps(run), Steps(after));
        Assert.Equal(2, hub.Commands.Count); // no compensation was started, nothing sent again
    }

    [Fact]
    public async Task AStepTheHubNeverAnswersTimesOutAtItsDeadlineAndALateAnswerChangesNothing()
    {
        var home = await HomeAsync();
        var (a, b) = (await home.AddLampAsync("A"), await home.AddLampAsync("B"));
        await using var hub = await ScriptedHub.ConnectAsync(home.StreamUri(), home.HubKey, a);
        hub.Script = _ => new HubAnswer(true, State: "off");
        var off = await home.CreateSceneAsync("Off", Command(a, "turn_off"));
        var first = await home.FinishedRunAsync(await home.RunSceneAsync(off));
        Assert.True(first.GetProperty("status").GetString() == "succeeded", $"The first scene's run: {first}");

        hub.Script = command => command.GetProperty("deviceId").GetGuid() == b ? null : new HubAnswer(true, State: Action(command) == "turn_on" ? "on" : "off");
        var scene = await home.CreateSceneAsync("Both on", Command(a, "turn_on"), Command(b, "turn_on"));
        var runId = await home.RunSceneAsync(scene);
        var run = await home.FinishedRunAsync(runId);
        var ignored = Assert.Single(hub.CommandsFor(b));
        await hub.AnswerAsync(ignored, new HubAnswer(true, State: "on")); // too late
        await Task.Delay(TimeSpan.FromSeconds(2), TestContext.Current.CancellationToken);
        var after = await home.RunAsync(runId);

        Assert.Equal("compensated", run.GetProperty("status").GetString());
        Assert.Equal([("do", a, "turn_on", "succeeded"), ("do", b, "turn_on", "timed_out"), ("undo", a, "turn_off", "succeeded")], Steps(run));
        var timedOut = run.GetProperty("steps")[1];
        var deadline = DateTimeOffset.Parse(ignored.GetProperty("deadline").GetString()!, CultureInfo.InvariantCulture);
        Assert.True(timedOut.GetProperty("completedAt").GetDateTimeOffset() >= deadline.AddSeconds(-1), "timed out before its deadline");
        Assert.Equal(Steps(run), Steps(after));
        Assert.Equal("compensated", after.GetProperty("status").GetString());
    }

    [Fact]
    public async Task ACommandForAHomeWithoutAConnectedHubFailsAtOnceWithThatReason()
    {
        var home = await HomeAsync();
        var lamp = await home.AddLampAsync("Porch");
        var scene = await home.CreateSceneAsync("Porch on", Command(lamp, "turn_on"));

        var run = await home.FinishedRunAsync(await home.RunSceneAsync(scene));

        var step = Assert.Single(run.GetProperty("steps").EnumerateArray());
        Assert.Equal("failed", step.GetProperty("status").GetString());
        Assert.Contains("connected", step.GetProperty("reason").GetString(), StringComparison.OrdinalIgnoreCase);
        // Answered long before the 10 s deadline: nothing to wait for when no hub can be reached.
        Assert.True(step.GetProperty("completedAt").GetDateTimeOffset() - step.GetProperty("sentAt").GetDateTimeOffset() < TimeSpan.FromSeconds(5));
        Assert.Equal("compensated", run.GetProperty("status").GetString()); // nothing had been done, so nothing is left changed
    }

    [Fact]
    public async Task AReadingRuleFiresOnceTheConditionHeldForItsDurationAndAResentBatchFiresNothingMore()
    {
        var home = await HomeAsync();
        var fan = await home.AddLampAsync("Fan");
        await using var hub = await ScriptedHub.ConnectAsync(home.StreamUri(), home.HubKey, fan);
        var rule = await home.SendAsync(HttpMethod.Post, "rules", new
        {
            name = "Cool the living room",
            trigger = new { type = "reading", deviceId = home.Thermometer, metric = "temperature", above = 26, forSeconds = 240, hysteresis = 0.5 },
            actions = new object[] { Command(fan, "turn_on"), new { type = "notify", title = "Hot", message = "The living room is above 26 °C." } },
        }, HttpStatusCode.Created);
        var ruleId = rule.GetProperty("id").GetGuid();
        var now = DateTimeOffset.UtcNow;
        // Above 26 from seven and a half minutes ago (25.8 is within the hysteresis, so it keeps holding): held for 240 s by the last one.
        var temperatures = new[] { 25.0, 26.5, 25.8, 27.0 };
        var gateway = fixture.App.CreateHttpClient("gateway");
        for (var i = 0; i < temperatures.Length; i++)
        {
            await home.IngestStoredAsync(gateway, temperatures[i], now.AddMinutes(-10 + (2.5 * i)));
        }

        var runs = await PollAsync(() => home.RunsAsync($"?sourceId={ruleId}"), r => r.Length > 0, TimeSpan.FromSeconds(60));
        var run = await home.FinishedRunAsync(Assert.Single(runs).GetProperty("id").GetGuid());
        await IngestAsync(gateway, home.HubKey, home.Thermometer, temperatures, now.AddMinutes(-2.5), TimeSpan.FromMinutes(2.5)); // a hub's resend
        await Task.Delay(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);

        Assert.Equal("succeeded", run.GetProperty("status").GetString());
        // Fired by the reading that completed the 240 s, or by the sweep once 240 s had passed since the first reading above 26: either way once.
        Assert.Contains("above 26 for 240 s", run.GetProperty("cause").GetString(), StringComparison.Ordinal);
        Assert.Single(await home.RunsAsync($"?sourceId={ruleId}"));
        Assert.Equal("turn_on", Action(Assert.Single(hub.CommandsFor(fan))));
    }

    [Fact]
    public async Task AnAnomalyRuleFiresOnceForAnAnomalyOfItsDeviceAndKindAndNotForAnotherKind()
    {
        var home = await HomeAsync();
        var rule = await home.SendAsync(HttpMethod.Post, "rules", new
        {
            name = "Thermometer offline",
            trigger = new { type = "anomaly", deviceId = home.Thermometer, kind = "offline" },
            actions = new object[] { new { type = "notify", title = "Offline", message = "The thermometer stopped reporting." } },
        }, HttpStatusCode.Created);
        var ruleId = rule.GetProperty("id").GetGuid();
        var offline = new AnomalyDetected(Guid.NewGuid(), home.HomeId, home.Thermometer, "temperature", AnomalyKind.Offline, AnomalySeverity.High,
            "No reading for 25 min", null, 0, 600, DateTimeOffset.UtcNow);
        var outlier = offline with { Id = Guid.NewGuid(), AnomalyId = Guid.NewGuid(), Kind = AnomalyKind.Outlier, Description = "A spike" };

        await PublishAsync(offline);
        await PublishAsync(offline); // the same event again: a redelivery
        await PublishAsync(outlier);
        var runs = await PollAsync(() => home.RunsAsync($"?sourceId={ruleId}"), r => r.Length > 0, TimeSpan.FromSeconds(60));
        await Task.Delay(TimeSpan.FromSeconds(3), TestContext.Current.CancellationToken);
        runs = await home.RunsAsync($"?sourceId={ruleId}");

        var run = Assert.Single(runs);
        Assert.Equal("succeeded", run.GetProperty("status").GetString()); // a notify-only rule has no steps to wait for
        Assert.Contains("No reading for 25 min", run.GetProperty("cause").GetString(), StringComparison.Ordinal);
    }

    private async Task PublishAsync<TEvent>(TEvent @event) where TEvent : IntegrationEvent
    {
        var ct = TestContext.Current.CancellationToken;
        await using var channel = await BusHost.ChannelAsync(fixture.App, ct);
        var name = EventNames.Of<TEvent>();
        await channel.BasicPublishAsync("homeiq.events", name, mandatory: false,
            new BasicProperties { Type = name, MessageId = @event.Id.ToString(), ContentType = "application/json", DeliveryMode = DeliveryModes.Persistent },
            JsonSerializer.SerializeToUtf8Bytes(@event, JsonSerializerOptions.Web), ct);
    }

    [Fact]
    public async Task AScheduleRuleRunsAtItsLocalTime()
    {
        var home = await HomeAsync();
        var zone = TimeZoneInfo.FindSystemTimeZoneById("Asia/Kolkata"); // +05:30, so a local minute is not a UTC minute by accident
        var local = TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, zone).AddMinutes(1);
        if (local.Second > 50)
        {
            local = local.AddMinutes(1);
        }
        var at = local.ToString("HH:mm", CultureInfo.InvariantCulture);
        var rule = await home.SendAsync(HttpMethod.Post, "rules", new
        {
            name = "Morning",
            trigger = new { type = "schedule", at, timeZone = "Asia/Kolkata" },
            actions = new object[] { new { type = "notify", title = "Morning", message = "Good morning." } },
        }, HttpStatusCode.Created);
        var next = rule.GetProperty("nextRunAt").GetDateTimeOffset();

        Assert.Equal(at, TimeZoneInfo.ConvertTime(next, zone).ToString("HH:mm", CultureInfo.InvariantCulture));
        Assert.InRange(next - DateTimeOffset.UtcNow, TimeSpan.Zero, TimeSpan.FromMinutes(3));
        var runs = await PollAsync(() => home.RunsAsync($"?sourceId={rule.GetProperty("id").GetGuid()}"), r => r.Length > 0, TimeSpan.FromMinutes(3));
        var run = Assert.Single(runs);
        Assert.True(run.GetProperty("startedAt").GetDateTimeOffset() >= next.AddSeconds(-1), "ran before its time");
        var later = (await home.SendAsync(HttpMethod.Get, $"rules/{rule.GetProperty("id").GetGuid()}", null, HttpStatusCode.OK)).GetProperty("nextRunAt").GetDateTimeOffset();
        Assert.Equal(TimeSpan.FromDays(1), later - next); // tomorrow, same local time (Kolkata has no DST)
    }

    [Fact]
    public async Task RulesAndScenesAreCheckedAndOnlyOwnersAndMembersChangeThem()
    {
        var home = await HomeAsync();
        var lamp = await home.AddLampAsync("Lamp");
        var guest = await AddMemberAsync(home.Client, home.HomeId, home.Owner, "guest");
        var member = await AddMemberAsync(home.Client, home.HomeId, home.Owner, "member");
        var outsider = await OutsiderAsync(home.Client);

        var bad = await home.SendAsync(HttpMethod.Post, "rules", new
        {
            name = "",
            trigger = new { type = "reading", deviceId = home.Thermometer, metric = "temperature" },
            actions = new object[] { new { type = "command", deviceId = lamp, action = "explode" }, new { type = "scene", sceneId = Guid.NewGuid() } },
        }, HttpStatusCode.BadRequest);
        Assert.Equal(["actions[0].action", "name", "trigger.above"], bad.GetProperty("errors").EnumerateObject().Select(e => e.Name).Order(StringComparer.Ordinal));
        var unknownScene = await home.SendAsync(HttpMethod.Post, "rules", new
        {
            name = "Scene rule",
            trigger = new { type = "state", deviceId = lamp, to = "on" },
            actions = new object[] { new { type = "scene", sceneId = Guid.NewGuid() } },
        }, HttpStatusCode.BadRequest);
        Assert.True(unknownScene.GetProperty("errors").TryGetProperty("actions[0].sceneId", out _));
        await home.SendAsync(HttpMethod.Post, "scenes", new { name = "Empty", steps = Array.Empty<object>() }, HttpStatusCode.BadRequest);
        await home.SendAsync(HttpMethod.Get, "runs?status=exploded&limit=0", null, HttpStatusCode.BadRequest);

        var body = new
        {
            name = "Lamp follows the thermometer",
            trigger = new { type = "reading", deviceId = home.Thermometer, metric = "temperature", below = 18 },
            actions = new object[] { Command(lamp, "turn_on") },
        };
        await home.SendAsync(HttpMethod.Post, "rules", body, HttpStatusCode.Forbidden, guest);
        await home.SendAsync(HttpMethod.Post, "rules", body, HttpStatusCode.NotFound, outsider);
        var created = await home.SendAsync(HttpMethod.Post, "rules", body, HttpStatusCode.Created, member);
        var id = created.GetProperty("id").GetGuid();
        Assert.True(created.GetProperty("enabled").GetBoolean());
        Assert.Equal(18, created.GetProperty("trigger").GetProperty("below").GetDouble());

        var listed = await home.SendAsync(HttpMethod.Get, "rules", null, HttpStatusCode.OK, guest);
        Assert.Equal(id, Assert.Single(listed.EnumerateArray()).GetProperty("id").GetGuid());
        await home.SendAsync(HttpMethod.Get, $"rules/{id}", null, HttpStatusCode.NotFound, outsider);
        var disabled = await home.SendAsync(HttpMethod.Put, $"rules/{id}", new { body.name, enabled = false, body.trigger, body.actions }, HttpStatusCode.OK);
        Assert.False(disabled.GetProperty("enabled").GetBoolean());
        Assert.False((await home.SendAsync(HttpMethod.Get, $"rules/{id}", null, HttpStatusCode.OK)).GetProperty("enabled").GetBoolean());
        await home.SendAsync(HttpMethod.Put, $"rules/{Guid.NewGuid()}", body, HttpStatusCode.NotFound);
        await home.SendAsync(HttpMethod.Delete, $"rules/{id}", null, HttpStatusCode.Forbidden, guest);
        await home.SendAsync(HttpMethod.Delete, $"rules/{id}", null, HttpStatusCode.NoContent);
        await home.SendAsync(HttpMethod.Get, $"rules/{id}", null, HttpStatusCode.NotFound);
        var scene = await home.CreateSceneAsync("Lamp on", Command(lamp, "turn_on"));
        await home.SendAsync(HttpMethod.Post, $"scenes/{scene}/run", null, HttpStatusCode.Forbidden, guest);
        await home.SendAsync(HttpMethod.Post, $"scenes/{Guid.NewGuid()}/run", null, HttpStatusCode.NotFound);
    }
}
