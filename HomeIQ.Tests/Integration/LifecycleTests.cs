using Microsoft.Extensions.DependencyInjection;
using HomeIQ.Hosting.Servers;

namespace HomeIQ.Tests.Integration;

/// <summary>Start-up order, failures and clean-up, each with a small composition of its own.</summary>
public sealed class LifecycleTests
{
    [Fact]
    public async Task WaitForStartsAProjectOnlyAfterItsDependencyIsHealthy()
    {
        var ct = TestApps.Timeout();
        var builder = DistributedApplicationTestingBuilder.Create(TestApps.Options());
        var cache = builder.AddRedis("cache");
        builder.AddProject<Projects.EchoService>("echo").WithReference(cache).WaitFor(cache).WithHttpHealthCheck("/health");
        await using var app = await builder.BuildAsync(ct);
        var order = new List<(string Resource, string State, bool Healthy)>();
        var watching = Task.Run(async () =>
        {
            await foreach (var e in app.ResourceNotifications.WatchAsync(ct))
            {
                lock (order)
                {
                    order.Add((e.Resource.Name, e.Snapshot.State, ResourceNotificationService.IsHealthy(e.Snapshot)));
                }
            }
        }, ct);

        await app.StartAsync(ct);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("echo", ct);

        lock (order)
        {
            var cacheHealthy = order.FindIndex(x => x.Resource == "cache" && x.Healthy);
            var echoStarting = order.FindIndex(x => x.Resource == "echo" && x.State == KnownResourceStates.Starting);
            var echoWaiting = order.FindIndex(x => x.Resource == "echo" && x.State == KnownResourceStates.Waiting);
            Assert.True(echoWaiting >= 0 && cacheHealthy > echoWaiting, "echo waited while cache started");
            Assert.True(echoStarting > cacheHealthy, $"echo started at event {echoStarting}, cache was healthy at event {cacheHealthy}");
        }
    }

    [Fact]
    public async Task AFailingDependencyFailsItsWaiterInsteadOfHanging()
    {
        var ct = TestApps.Timeout(TimeSpan.FromSeconds(60));
        var builder = DistributedApplicationTestingBuilder.Create(TestApps.Options());
        var broken = builder.AddExecutable("broken", "/nonexistent/homeiq-no-such-program", ".");
        builder.AddProject<Projects.EchoService>("echo").WaitFor(broken);
        await using var app = await builder.BuildAsync(ct);

        await app.StartAsync(ct);
        var echo = await app.ResourceNotifications.WaitForResourceAsync("echo", KnownResourceStates.FailedToStart, ct);
        var error = await Assert.ThrowsAsync<DistributedApplicationException>(() => app.ResourceNotifications.WaitForResourceHealthyAsync("echo", ct));

        Assert.Contains("broken", echo.Snapshot.StateReason, StringComparison.Ordinal);
        Assert.Contains("FailedToStart", error.Message, StringComparison.Ordinal);
        Assert.Empty(echo.Snapshot.ProcessIds);
    }

    [Fact]
    public async Task WaitForCompletionStartsAfterASuccessfulExitAndFailsOnAnyOtherExitCode()
    {
        var ct = TestApps.Timeout();
        var builder = DistributedApplicationTestingBuilder.Create(TestApps.Options());
        var migrate = builder.AddExecutable("migrate", "/bin/sh", ".", "-c", "exit 0");
        var badMigrate = builder.AddExecutable("bad-migrate", "/bin/sh", ".", "-c", "exit 3");
        builder.AddExecutable("after-good", "/bin/sh", ".", "-c", "sleep 30").WaitForCompletion(migrate);
        builder.AddExecutable("after-bad", "/bin/sh", ".", "-c", "sleep 30").WaitForCompletion(badMigrate);
        await using var app = await builder.BuildAsync(ct);

        await app.StartAsync(ct);
        var good = await app.ResourceNotifications.WaitForResourceAsync("after-good", KnownResourceStates.Running, ct);
        var bad = await app.ResourceNotifications.WaitForResourceAsync("after-bad", KnownResourceStates.FailedToStart, ct);

        Assert.Equal(KnownResourceStates.Finished, (await app.ResourceNotifications.WaitForResourceAsync("migrate", KnownResourceStates.Finished, ct)).Snapshot.State);
        Assert.Single(good.Snapshot.ProcessIds);
        Assert.Contains("exit code 3", bad.Snapshot.StateReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMissingServerBinaryIsAClearErrorNamingTheDebianPackage()
    {
        var ct = TestApps.Timeout(TimeSpan.FromSeconds(30));
        var builder = DistributedApplicationTestingBuilder.Create(TestApps.Options());
        var cache = builder.AddRedis("cache");
        // Swap in a launcher that looks for redis-server where it is not installed.
        cache.Resource.Annotations.RemoveAll(a => a is LocalServerAnnotation);
        cache.WithAnnotation(new LocalServerAnnotation(new RedisServer(["/nonexistent/redis-server"], searchPath: false)));
        builder.AddProject<Projects.EchoService>("echo").WithReference(cache).WaitFor(cache);
        await using var app = await builder.BuildAsync(ct);

        await app.StartAsync(ct);
        var failed = await app.ResourceNotifications.WaitForResourceAsync("cache", KnownResourceStates.FailedToStart, ct);
        var waiter = await app.ResourceNotifications.WaitForResourceAsync("echo", KnownResourceStates.FailedToStart, ct);

        Assert.Contains("redis-server", failed.Snapshot.StateReason, StringComparison.Ordinal);
        Assert.Contains("apt-get install -y redis-server", failed.Snapshot.StateReason, StringComparison.Ordinal);
        Assert.Contains("cache", waiter.Snapshot.StateReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DisposalStopsEveryProcessAndRemovesTheSessionDirectory()
    {
        var ct = TestApps.Timeout();
        var builder = DistributedApplicationTestingBuilder.Create(TestApps.Options());
        var db = builder.AddPostgres("postgres").AddDatabase("appdb");
        var cache = builder.AddRedis("cache");
        var messaging = builder.AddRabbitMQ("messaging");
        builder.AddProject<Projects.EchoService>("echo").WithReplicas(2)
            .WithReference(db).WaitFor(db).WithReference(cache).WaitFor(cache).WithReference(messaging).WaitFor(messaging);
        var app = await builder.BuildAsync(ct);
        await app.StartAsync(ct);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("echo", ct);
        var pids = TestApps.AllPids(app);
        var postgresData = Directory.GetParent((await File.ReadAllTextAsync($"/proc/{TestApps.Pids(app, "postgres")[0]}/cmdline", ct)).Split('\0')[2])!.FullName;

        await app.DisposeAsync();

        Assert.Equal(6, pids.Length); // postgres, redis, epmd, rabbitmq and two replicas
        Assert.All(pids, pid => Assert.False(TestApps.IsAlive(pid), $"process {pid} is still running"));
        Assert.False(Directory.Exists(postgresData), $"{postgresData} was not removed");
    }

    [Fact]
    public async Task AWaitForCycleIsRejectedBeforeAnythingStarts()
    {
        var builder = DistributedApplicationTestingBuilder.Create(TestApps.Options());
        var a = builder.AddExecutable("a", "/bin/true", ".");
        var b = builder.AddExecutable("b", "/bin/true", ".").WaitFor(a);
        a.WaitFor(b);

        var error = await Assert.ThrowsAsync<DistributedApplicationException>(() => builder.BuildAsync(TestApps.Timeout()));

        Assert.Contains("a → b → a", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WaitingForAnUnknownResourceNamesItAndTheKnownOnes()
    {
        var builder = DistributedApplicationTestingBuilder.Create(TestApps.Options());
        builder.AddExecutable("only", "/bin/true", ".");
        await using var app = await builder.BuildAsync(TestApps.Timeout());

        var error = await Assert.ThrowsAsync<ArgumentException>(() => app.ResourceNotifications.WaitForResourceHealthyAsync("nope", TestApps.Timeout()));

        Assert.Contains("'nope'", error.Message, StringComparison.Ordinal);
        Assert.Contains("only", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResourceCommandsStopStartAndRestartAProcessAndRefuseWhatDoesNotApply()
    {
        var ct = TestApps.Timeout();
        var builder = DistributedApplicationTestingBuilder.Create(TestApps.Options());
        builder.AddProject<Projects.EchoService>("echo").WithHttpHealthCheck("/health");
        await using var app = await builder.BuildAsync(ct);
        await app.StartAsync(ct);
        var first = Assert.Single((await app.ResourceNotifications.WaitForResourceHealthyAsync("echo", ct)).Snapshot.ProcessIds);
        var commands = app.Services.GetRequiredService<ResourceCommandService>();

        var stop = await commands.ExecuteCommandAsync("echo", KnownResourceCommands.Stop, ct);
        var stopAgain = await commands.ExecuteCommandAsync("echo", KnownResourceCommands.Stop, ct);
        var stopped = app.ResourceNotifications.TryGetCurrentState("echo", out var e) ? e!.Snapshot : null;
        var start = await commands.ExecuteCommandAsync("echo", KnownResourceCommands.Start, ct);
        var second = Assert.Single((await app.ResourceNotifications.WaitForResourceHealthyAsync("echo", ct)).Snapshot.ProcessIds);
        var restart = await commands.ExecuteCommandAsync("echo", KnownResourceCommands.Restart, ct);
        var third = Assert.Single((await app.ResourceNotifications.WaitForResourceHealthyAsync("echo", ct)).Snapshot.ProcessIds);
        var unknown = await commands.ExecuteCommandAsync("echo", "resource-explode", ct);

        Assert.True(stop.Success);
        Assert.Equal(KnownResourceStates.Exited, stopped!.State);
        Assert.False(TestApps.IsAlive(first));
        Assert.False(stopAgain.Success);
        Assert.True(start.Success);
        Assert.True(restart.Success);
        Assert.Equal(3, new[] { first, second, third }.Distinct().Count());
        Assert.False(unknown.Success);
        Assert.Contains("resource-explode", unknown.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACommandOnAResourceStillWaitingForItsDependencyIsRefused()
    {
        var ct = TestApps.Timeout();
        var builder = DistributedApplicationTestingBuilder.Create(TestApps.Options());
        // Runs, but never answers its health probe: whatever waits for it keeps waiting.
        var neverHealthy = builder.AddExecutable("never-healthy", "sleep", ".", "300").WithHttpEndpoint(env: "PORT").WithHttpHealthCheck("/");
        builder.AddProject<Projects.EchoService>("echo").WaitFor(neverHealthy);
        await using var app = await builder.BuildAsync(ct);
        await app.StartAsync(ct);
        await app.ResourceNotifications.WaitForResourceAsync("echo", KnownResourceStates.Waiting, ct);
        var commands = app.Services.GetRequiredService<ResourceCommandService>();

        var restart = await commands.ExecuteCommandAsync("echo", KnownResourceCommands.Restart, ct);
        var stop = await commands.ExecuteCommandAsync("echo", KnownResourceCommands.Stop, ct);

        Assert.False(restart.Success);
        Assert.Contains("Waiting", restart.ErrorMessage, StringComparison.Ordinal);
        Assert.False(stop.Success);
        Assert.True(app.ResourceNotifications.TryGetCurrentState("echo", out var echo));
        Assert.Equal(KnownResourceStates.Waiting, echo!.Snapshot.State);
        Assert.Empty(echo.Snapshot.ProcessIds);
    }

    [Fact]
    public async Task APersistentServerInAnIsolatedTestRunStopsWithTheRun()
    {
        var ct = TestApps.Timeout();
        var builder = DistributedApplicationTestingBuilder.Create(TestApps.Options());
        builder.AddRedis("cache").WithLifetime(ContainerLifetime.Persistent);
        var app = await builder.BuildAsync(ct);
        await app.StartAsync(ct);
        var pid = Assert.Single((await app.ResourceNotifications.WaitForResourceHealthyAsync("cache", ct)).Snapshot.ProcessIds);

        await app.DisposeAsync();

        Assert.False(TestApps.IsAlive(pid), "an isolated run's data is deleted on exit, so its servers must not outlive it");
    }
}
