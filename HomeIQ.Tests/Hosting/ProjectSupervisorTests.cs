using HomeIQ.Tests.Integration;

namespace HomeIQ.Tests.Hosting;

/// <summary>HomeIQ.Hosting restarts a crashed project, but a project stopped on purpose stays stopped.</summary>
public sealed class ProjectSupervisorTests
{
    [Fact]
    public async Task AProjectStoppedByItsCommandStaysStoppedUntilItIsStartedAgain()
    {
        var ct = TestApps.Timeout();
        var builder = TestApps.CreateBuilder();
        builder.AddProject<Projects.EchoService>("echo").WithHttpHealthCheck("/health");
        await using var app = await builder.BuildAsync(ct);
        await app.StartAsync(ct);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("echo", ct);

        await app.CommandAsync("echo", KnownResourceCommands.StopCommand, ct);
        await Task.Delay(TimeSpan.FromSeconds(4), ct); // longer than the restarter's first back-off
        var stopped = Assert.Single(await app.InstancesAsync("echo"));
        await app.CommandAsync("echo", KnownResourceCommands.StartCommand, ct);
        await app.ResourceNotifications.WaitForResourceAsync("echo", e => e.Snapshot.State?.Text == KnownResourceStates.Running && e.IsHealthy(), ct);

        Assert.Contains(stopped.Snapshot.State?.Text, new[] { KnownResourceStates.Exited, KnownResourceStates.Finished });
    }
}
