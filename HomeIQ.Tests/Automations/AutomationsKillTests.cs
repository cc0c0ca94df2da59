using System.Diagnostics;
using HomeIQ.Tests.Integration;
using HomeIQ.Tests.Pipeline;
using static HomeIQ.Tests.Automations.AutomationsHome;

namespace HomeIQ.Tests.Automations;

/// <summary>
/// Automations under kill -9 mid-saga: the scene's state is in its database, its commands leave through the outbox, and replies wait on
/// its durable queue, so a run killed while a step waits for its reply resumes after the restart, with every step sent exactly once.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class AutomationsKillTests(PipelineFixture fixture)
{
    [Fact]
    public async Task ASceneKilledWhileAStepWaitsForItsReplyResumesAfterTheRestartAndSendsEveryStepOnce()
    {
        var ct = TestApps.Timeout(TimeSpan.FromMinutes(5));
        await fixture.App.ResourceNotifications.WaitForResourceHealthyAsync("automations", ct);
        await fixture.App.WaitForEveryReplicaHealthyAsync("ingestion", ct);
        var home = await CreateAsync(fixture.App.CreateHttpClient("gateway"));
        var (a, b, c) = (await home.AddLampAsync("A"), await home.AddLampAsync("B"), await home.AddLampAsync("C"));
        await using var hub = await ScriptedHub.ConnectAsync(home.StreamUri(), home.HubKey, a);
        hub.Script = command => command.GetProperty("deviceId").GetGuid() == b ? null : new HubAnswer(true, State: "on"); // B's reply waits for the kill
        var scene = await home.CreateSceneAsync("All on", Command(a, "turn_on"), Command(b, "turn_on"), Command(c, "turn_on"));

        var runId = await home.RunSceneAsync(scene);
        await hub.WaitForCommandsAsync(2, ct);
        await using (var killed = await fixture.App.KillOneAsync("automations")) // mid-saga, step B sent and waiting
        {
            await hub.AnswerAsync(Assert.Single(hub.CommandsFor(b)), new HubAnswer(true, State: "on")); // the reply waits on Automations' queue
            await killed.BackAsync(ct);
        }
        var run = await home.FinishedRunAsync(runId, TimeSpan.FromMinutes(2));
        await Task.Delay(TimeSpan.FromSeconds(2), ct);

        Assert.Equal("succeeded", run.GetProperty("status").GetString());
        Assert.Equal([("do", a, "turn_on", "succeeded"), ("do", b, "turn_on", "succeeded"), ("do", c, "turn_on", "succeeded")], Steps(run));
        Assert.Equal([(a, "turn_on"), (b, "turn_on"), (c, "turn_on")], hub.Commands.Select(x => (x.GetProperty("deviceId").GetGuid(), x.GetProperty("action").GetString())));
    }
}
