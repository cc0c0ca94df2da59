using System.Net.Http.Json;
using System.Text.Json;
using HomeIQ.Tests.HomeAssistant;
using HomeIQ.Tests.Identity;
using HomeIQ.Tests.Integration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace HomeIQ.Tests.Pipeline;

/// <summary>The tests that run against <see cref="PipelineFixture"/>, one after another.</summary>
[CollectionDefinition(Name)]
public sealed class PipelineCollection : ICollectionFixture<PipelineFixture>
{
    public const string Name = "pipeline";
}

/// <summary>
/// The real AppHost composition (its own instance, apart from the assembly-wide one, because these tests kill its processes),
/// with the gateway's per-hub limit raised for sustained ingest, and a scripted Home Assistant the ingestion service bridges
/// once a test names the home (<see cref="BridgeHomeAssistantAsync"/>).
/// </summary>
public sealed class PipelineFixture : IAsyncLifetime
{
    private DistributedApplication? _app;
    private Guid? _homeAssistantHome;

    public DistributedApplication App => _app ?? throw new InvalidOperationException("The AppHost has not started.");

    public ScriptedHomeAssistant HomeAssistant { get; } = new();

    public async ValueTask InitializeAsync()
    {
        var ct = TestApps.Timeout(TestApps.FixtureStartTimeout);
        await HomeAssistant.StartAsync(ct);
        var builder = await TestApps.CreateAppHostAsync(ct);
        // Read when each ingestion process starts: the bridge is configured as in run mode, once a home exists for it.
        builder.CreateResourceBuilder<ProjectResource>("ingestion").WithEnvironment(context =>
        {
            if (_homeAssistantHome is { } home)
            {
                context.EnvironmentVariables["HomeAssistant__Url"] = HomeAssistant.Url.ToString();
                context.EnvironmentVariables["HomeAssistant__AccessToken"] = HomeAssistant.AccessToken;
                context.EnvironmentVariables["HomeAssistant__HomeId"] = home.ToString();
                context.EnvironmentVariables["HomeAssistant__RegisterUnknownEntities"] = "true";
                context.EnvironmentVariables["HomeAssistant__ReconnectMaxDelay"] = "00:00:02";
            }
        });
        builder.CreateResourceBuilder<ProjectResource>("gateway")
            .WithEnvironment("Gateway__RateLimits__PerHubPerSecond", "100000")
            .WithEnvironment("Gateway__RateLimits__PerHubBurst", "100000")
            .WithEnvironment("Gateway__RateLimits__PerAddressOnHubRoutesPerSecond", "100000")
            .WithEnvironment("Gateway__RateLimits__PerAddressOnHubRoutesBurst", "100000")
            .WithEnvironment("Gateway__RateLimits__AnonymousPerSecond", "100000")
            .WithEnvironment("Gateway__RateLimits__AnonymousBurst", "100000");
        // Long enough that a command's deadline does not pass while Automations is killed and restarted on a loaded machine.
        builder.CreateResourceBuilder<ProjectResource>("automations").WithEnvironment("Automations__CommandTimeout", "00:01:30");
        _app = await builder.BuildAsync(ct);
        await _app.StartAsync(ct);
        foreach (var resource in new[] { "identity", "devices", "ingestion", "readings", "energy", "anomalies", "automations", "gateway" })
        {
            await _app.WaitForEveryReplicaHealthyAsync(resource, ct);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
        await HomeAssistant.DisposeAsync();
    }

    /// <summary>Restarts ingestion with the scripted Home Assistant bridged into <paramref name="homeId"/>.</summary>
    public async Task BridgeHomeAssistantAsync(Guid homeId, CancellationToken ct)
    {
        _homeAssistantHome = homeId;
        await App.CommandAsync("ingestion", KnownResourceCommands.RestartCommand, ct);
        await App.WaitForEveryReplicaHealthyAsync("ingestion", ct);
    }

    /// <summary>
    /// A new home with a hub key and <paramref name="deviceCount"/> thermometers, all through the gateway; retried as a client would
    /// while a service answers 503 (just after a Postgres restart, its first request on a dead pooled connection does).
    /// </summary>
    public async Task<IngestHome> NewHomeAsync(int deviceCount)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await CreateHomeAsync(deviceCount);
            }
            catch (HttpRequestException ex) when (ex.StatusCode == System.Net.HttpStatusCode.ServiceUnavailable && attempt < 5)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);
            }
        }
    }

    private async Task<IngestHome> CreateHomeAsync(int deviceCount)
    {
        var ct = TestContext.Current.CancellationToken;
        var gateway = new IdentityClient(App.CreateHttpClient("gateway"));
        var login = await gateway.RegisterAndLoginAsync(IdentityClient.NewEmail());
        var (homeId, token) = await gateway.CreateHomeAsync(login.GetProperty("accessToken").GetString()!);
        using var key = await gateway.SendAsync(HttpMethod.Post, $"/api/v1/homes/{homeId}/hub-keys", token, new { name = "Kill-test hub" });
        key.EnsureSuccessStatusCode();
        var hubKey = (await key.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("key").GetString()!;
        var devices = new List<Guid>();
        for (var i = 0; i < deviceCount; i++)
        {
            using var device = await gateway.SendAsync(HttpMethod.Post, $"/api/v1/homes/{homeId}/devices", token, new
            {
                name = $"Thermometer {i}",
                kind = "sensor",
                capabilities = new[] { new { metric = "temperature", unit = "°C", min = -40.0, max = 85.0, writable = false } },
            });
            device.EnsureSuccessStatusCode();
            devices.Add((await device.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("id").GetGuid());
        }
        return new IngestHome(homeId, token, hubKey, devices);
    }

    /// <summary>How many readings of the home are in the time-series store, read from its database.</summary>
    public async Task<long> StoredAsync(Guid homeId, CancellationToken ct)
    {
        // Unpooled: a pooled connection would be dead after the Postgres kill test.
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(await App.GetConnectionStringAsync("readingsdb", ct)) { Pooling = false }.ConnectionString);
        await connection.OpenAsync(ct);
        await using var count = new NpgsqlCommand("SELECT count(*) FROM readings WHERE home_id = $1", connection) { Parameters = { new() { Value = homeId } } };
        return (long)(await count.ExecuteScalarAsync(ct))!;
    }
}

/// <summary>A home ready for ingest.</summary>
public sealed record IngestHome(Guid HomeId, string Token, string HubKey, IReadOnlyList<Guid> Devices);
