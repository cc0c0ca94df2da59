using HomeIQ.Ingestion;
using HomeIQ.Ingestion.HomeAssistant;
using HomeIQ.Ingestion.Pipeline;
using HomeIQ.Tests.Integration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace HomeIQ.Tests.HomeAssistant;

/// <summary>A real Redis for the bridge lease.</summary>
public sealed class RedisFixture : IAsyncLifetime
{
    private DistributedApplication? _app;

    public string ConnectionString { get; private set; } = "";

    public async ValueTask InitializeAsync()
    {
        var ct = TestApps.Timeout();
        var builder = TestApps.CreateBuilder();
        builder.AddRedis("cache");
        _app = await builder.BuildAsync(ct);
        await _app.StartAsync(ct);
        await _app.ResourceNotifications.WaitForResourceHealthyAsync("cache", ct);
        ConnectionString = (await _app.GetConnectionStringAsync("cache", ct))!;
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}

/// <summary>Two replicas' bridges, wired as Ingestion wires them (AddHomeAssistantBridge), against one Redis and one scripted Home Assistant.</summary>
public sealed class BridgeLeaseTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private async Task<IHost> ReplicaAsync(string name, ScriptedHomeAssistant server, Guid homeId, CapturedLogs logs)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Development" });
        var settings = BridgeHost.Settings(server);
        settings["HomeAssistant:HomeId"] = homeId.ToString();
        settings["HomeAssistant:LeaseTtl"] = "00:00:01.500";
        settings["ConnectionStrings:cache"] = redis.ConnectionString;
        settings["OTEL_RESOURCE_ATTRIBUTES"] = $"service.instance.id={name}";
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.SetMinimumLevel(LogLevel.Debug).AddProvider(logs);
        builder.AddHomeAssistantBridge();
        builder.Services.AddSingleton<IReadingPipeline, RecordingPipeline>();
        builder.Services.AddSingleton<IExternalDeviceDirectory, FakeDeviceDirectory>();
        var host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);
        return host;
    }

    private static HomeAssistantBridgeStatus Status(IHost host) => host.Services.GetRequiredService<HomeAssistantBridgeStatus>();

    private static async Task<string> HealthAsync(IHost host) =>
        (await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(r => r.Name == "homeassistant-bridge", TestContext.Current.CancellationToken))
            .Entries["homeassistant-bridge"].Description!;

    [Fact]
    public async Task OnlyOneReplicaConnectsAndTheOtherTakesOverWhenItStops()
    {
        var ct = TestApps.Timeout(TimeSpan.FromSeconds(60));
        await using var server = new ScriptedHomeAssistant();
        await server.StartAsync(ct);
        var homeId = Guid.NewGuid();
        var logs = new CapturedLogs();
        using var a = await ReplicaAsync("replica-a", server, homeId, logs);
        await server.WaitForSubscribedAsync(ct);
        using var b = await ReplicaAsync("replica-b", server, homeId, logs);
        await BridgeHost.WaitUntilAsync(() => Status(b).Holder == "replica-a", ct);
        await Task.Delay(TimeSpan.FromSeconds(2), ct); // longer than the lease: a renewed lease keeps b out

        var connectionsWithBothUp = server.Connections;
        var standbyHealth = await HealthAsync(b);
        var holderHealth = await HealthAsync(a);
        await a.StopAsync(ct);
        await BridgeHost.WaitUntilAsync(() => Status(b).Connected && server.Subscribed == 1, ct);

        Assert.Equal(1, connectionsWithBothUp);
        Assert.Contains("replica-a", standbyHealth);
        Assert.Contains("Standby", standbyHealth);
        Assert.Contains("replica-a runs the Home Assistant bridge and is connected", holderHealth);
        Assert.Equal(2, server.Connections);
        Assert.True(Status(b).HoldsLease);
        Assert.False(Status(a).HoldsLease);
        Assert.Contains(logs.Records, r => r.Message.Contains("Replica replica-b holds the Home Assistant bridge"));
        await b.StopAsync(ct);
    }

    [Fact]
    public async Task TheLeaseOfAReplicaThatDiedIsTakenOverOnceItExpires()
    {
        var ct = TestApps.Timeout(TimeSpan.FromSeconds(60));
        await using var server = new ScriptedHomeAssistant();
        await server.StartAsync(ct);
        var homeId = Guid.NewGuid();
        using (var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString))
        {
            Assert.True(await connection.GetDatabase().StringSetAsync($"homeiq:ingestion:homeassistant:lease:{homeId}", "dead-replica/0", TimeSpan.FromSeconds(3), When.NotExists));
        }
        using var survivor = await ReplicaAsync("survivor", server, homeId, new CapturedLogs());
        await BridgeHost.WaitUntilAsync(() => Status(survivor).Holder == "dead-replica", ct);

        var connectionsWhileHeld = server.Connections;
        await server.WaitForSubscribedAsync(ct);

        Assert.Equal(0, connectionsWhileHeld);
        Assert.Equal(1, server.Connections);
        Assert.True(Status(survivor).HoldsLease);
        await survivor.StopAsync(ct);
    }
}
