using HomeIQ.Tests.Integration;

namespace HomeIQ.Tests.Hosting;

/// <summary>HomeIQ.Hosting restarts a crashed project, until it runs, but a project stopped on purpose stays stopped.</summary>
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

    [Fact]
    public async Task AKilledProjectWhoseStartsFailIsStartedAgainUntilItRuns()
    {
        var ct = TestApps.Timeout();
        var failingStarts = 0;
        var builder = TestApps.CreateBuilder();
        // Aspire reports an environment that cannot be applied as FailedToStart: a start that fails without the process ever running.
        builder.AddProject<Projects.EchoService>("echo").WithHttpHealthCheck("/health").WithEnvironment(context =>
        {
            if (Interlocked.Decrement(ref failingStarts) >= 0)
            {
                throw new InvalidOperationException("a start that fails, for the test");
            }
            context.EnvironmentVariables["STARTED_BY"] = "test";
        });
        await using var app = await builder.BuildAsync(ct);
        await app.StartAsync(ct);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("echo", ct);

        Volatile.Write(ref failingStarts, 2);
        var failed = app.ResourceNotifications.WaitForResourceAsync("echo", KnownResourceStates.FailedToStart, ct);
        await using (var killed = await app.KillOneAsync("echo"))
        {
            await failed; // the first start after the kill failed
            await killed.BackAsync(ct);
        }

        Assert.True(Volatile.Read(ref failingStarts) < 0, "Both failing starts were tried before the one that ran");
    }
}
