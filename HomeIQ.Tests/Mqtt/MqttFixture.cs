using System.Net.Http.Json;
using System.Text.Json;
using HomeIQ.Tests.Hosting;
using HomeIQ.Tests.Identity;
using HomeIQ.Tests.Integration;
using Npgsql;

namespace HomeIQ.Tests.Mqtt;

/// <summary>
/// Ingestion (two replicas) subscribed to a real Mosquitto, with Identity, Devices, Readings, Postgres, Redis and RabbitMQ. One home,
/// made once Identity is up; ingestion is then restarted with <c>Mqtt__HomeId</c> set to it and unknown devices registered.
/// Tests tell their devices apart by unique names.
/// </summary>
public sealed class MqttFixture : IAsyncLifetime
{
    private DistributedApplication? _app;
    private Guid? _home;
    private Guid? _flat;

    public DistributedApplication App => _app ?? throw new InvalidOperationException("The MQTT stack has not started.");

    public Guid HomeId => _home ?? throw new InvalidOperationException("No home yet.");

    /// <summary>A second home on the same broker, under the topic prefix <see cref="FlatPrefix"/>.</summary>
    public Guid FlatId => _flat ?? throw new InvalidOperationException("No home yet.");

    public const string FlatPrefix = "flat-b/";

    public string OwnerToken { get; private set; } = "";

    public Uri Broker { get; private set; } = null!;

    private string IngestionSecret { get; } = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));

    public async ValueTask InitializeAsync()
    {
        var ct = TestApps.Timeout(TestApps.FixtureStartTimeout);
        var builder = TestApps.CreateBuilder();
        var postgres = builder.AddPostgres("postgres");
        var cache = builder.AddRedis("cache");
        var messaging = builder.AddRabbitMQ("messaging");
        var mqtt = builder.AddMqttBroker("mqtt");
        var identity = builder.AddIdentityService(postgres, IngestionSecret);
        var devices = builder.AddDevicesService(postgres, cache, messaging, identity);
        builder.AddReadingsService(postgres, messaging, identity);
        builder.AddProject<Projects.HomeIQ_Ingestion>("ingestion")
            .WithReplicas(2)
            .WithReference(messaging).WaitFor(messaging)
            .WithReference(cache).WaitFor(cache)
            .WithReference(mqtt).WaitFor(mqtt)
            .WithReference(identity).WaitFor(identity)
            .WithReference(devices).WaitFor(devices)
            .WithEnvironment("Authentication__Client__Secret", IngestionSecret)
            .WithEnvironment("Mqtt__RegisterUnknownDevices", "true")
            .WithEnvironment("Mqtt__ReconnectMaxDelay", "00:00:02")
            .WithEnvironment(context =>
            {
                if (_home is { } home && _flat is { } flat)
                {
                    context.EnvironmentVariables["Mqtt__HomeId"] = home.ToString();
                    context.EnvironmentVariables["Mqtt__Homes__0__HomeId"] = flat.ToString();
                    context.EnvironmentVariables["Mqtt__Homes__0__TopicPrefix"] = FlatPrefix;
                }
            })
            .WithHttpHealthCheck("/health");

        _app = await builder.BuildAsync(ct);
        await _app.StartAsync(ct);
        await _app.ResourceNotifications.WaitForResourceHealthyAsync("readings", ct);
        await _app.ResourceNotifications.WaitForResourceHealthyAsync("devices", ct);
        var identityClient = new IdentityClient(_app.CreateHttpClient("identity"));
        var login = await identityClient.RegisterAndLoginAsync(IdentityClient.NewEmail());
        var (homeId, token) = await identityClient.CreateHomeAsync(login.GetProperty("accessToken").GetString()!);
        var (flatId, bothToken) = await identityClient.CreateHomeAsync(token, "Flat B"); // the new token carries both homes
        (_home, _flat, OwnerToken) = (homeId, flatId, bothToken);
        await _app.CommandAsync("ingestion", KnownResourceCommands.RestartCommand, ct);
        await _app.WaitForEveryReplicaHealthyAsync("ingestion", ct);
        Broker = new Uri((await _app.GetConnectionStringAsync("mqtt", ct))!);
    }

    /// <summary>A scripted device: an MQTT client with its own id that publishes at QoS 1.</summary>
    internal Task<MqttTestClient> DeviceAsync(CancellationToken ct) => MqttTestClient.ConnectAsync(Broker, $"device-{Guid.NewGuid():N}", cleanStart: true, ct);

    /// <summary>The home's devices by external id.</summary>
    internal async Task<Dictionary<string, Guid>> DevicesByExternalIdAsync(CancellationToken ct, Guid? homeId = null)
    {
        var devices = new IdentityClient(App.CreateHttpClient("devices"));
        using var response = await devices.SendAsync(HttpMethod.Get, $"/api/v1/homes/{homeId ?? HomeId}/devices?limit=200", OwnerToken);
        response.EnsureSuccessStatusCode();
        var page = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
        return page.GetProperty("items").EnumerateArray()
            .Where(d => d.GetProperty("externalId").ValueKind == JsonValueKind.String)
            .ToDictionary(d => d.GetProperty("externalId").GetString()!, d => d.GetProperty("id").GetGuid());
    }

    /// <summary>The latest value per device and metric from Readings' API, waiting until <paramref name="done"/> holds (or the wait ends).</summary>
    internal async Task<List<(Guid Device, string Metric, double Value, string Unit)>> LatestAsync(
        Func<List<(Guid Device, string Metric, double Value, string Unit)>, Task<bool>> done, CancellationToken ct)
    {
        var readings = new IdentityClient(App.CreateHttpClient("readings"));
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            using var response = await readings.SendAsync(HttpMethod.Get, $"/api/v1/homes/{HomeId}/readings/latest", OwnerToken);
            response.EnsureSuccessStatusCode();
            var page = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
            var latest = page.GetProperty("readings").EnumerateArray()
                .Select(r => (r.GetProperty("deviceId").GetGuid(), r.GetProperty("metric").GetString()!, r.GetProperty("value").GetDouble(), r.GetProperty("unit").GetString()!))
                .ToList();
            if (await done(latest) || DateTime.UtcNow > until)
            {
                return latest;
            }
            await Task.Delay(250, ct);
        }
    }

    /// <summary>Waits until the device with <paramref name="externalId"/> exists (registered from its first message), for up to 30 s.</summary>
    internal async Task<Guid> DeviceIdAsync(string externalId, CancellationToken ct, Guid? homeId = null)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            if ((await DevicesByExternalIdAsync(ct, homeId)).TryGetValue(externalId, out var id))
            {
                return id;
            }
            Assert.True(DateTime.UtcNow < until, $"{externalId} was not registered");
            await Task.Delay(250, ct);
        }
    }

    /// <summary>How many rows Readings stored for a device's metric, read from its database.</summary>
    internal async Task<long> StoredAsync(Guid deviceId, string metric, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(await App.GetConnectionStringAsync("readingsdb", ct));
        await connection.OpenAsync(ct);
        await using var count = new NpgsqlCommand("SELECT count(*) FROM readings WHERE device_id = $1 AND metric = $2", connection)
        {
            Parameters = { new() { Value = deviceId }, new() { Value = metric } },
        };
        return (long)(await count.ExecuteScalarAsync(ct))!;
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}

/// <summary>The MQTT tests share one stack.</summary>
[CollectionDefinition(Name)]
public sealed class MqttCollection : ICollectionFixture<MqttFixture>
{
    public const string Name = "mqtt";
}
