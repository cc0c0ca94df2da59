using System.Net.Http.Json;
using System.Text.Json;
using HomeIQ.Tests.Identity;
using HomeIQ.Tests.Integration;

namespace HomeIQ.Tests.Devices;

/// <summary>Devices with its real dependencies: Postgres (identitydb, devicesdb), Redis, RabbitMQ and the real Identity service.</summary>
public sealed class DevicesFixture : IAsyncLifetime
{
    private DistributedApplication? _app;
    private readonly SemaphoreSlim _sharedHomeLock = new(1, 1);
    private SharedHome? _sharedHome;

    /// <summary>A home with a room and a device, for tests that only need ids to aim at.</summary>
    public sealed record SharedHome(Guid HomeId, string Token, Guid RoomId, Guid DeviceId, Guid OtherRoomId);

    public DistributedApplication App => _app ?? throw new InvalidOperationException("The devices stack has not started.");

    /// <summary>The secret of the "ingestion" service client registered with Identity.</summary>
    public string IngestionSecret { get; } = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));

    public async ValueTask InitializeAsync()
    {
        var ct = TestApps.Timeout(TestApps.FixtureStartTimeout);
        var builder = TestApps.CreateBuilder();
        var postgres = builder.AddPostgres("postgres");
        var cache = builder.AddRedis("cache");
        var messaging = builder.AddRabbitMQ("messaging");
        var identity = builder.AddIdentityService(postgres, IngestionSecret);
        builder.AddDevicesService(postgres, cache, messaging, identity);

        _app = await builder.BuildAsync(ct);
        await _app.StartAsync(ct);
        await _app.ResourceNotifications.WaitForResourceHealthyAsync("devices", ct);
    }

    internal IdentityClient Identity() => new(App.CreateHttpClient("identity"));

    internal IdentityClient Devices() => new(App.CreateHttpClient("devices"));

    /// <summary>A new user with a new home: its id and the owner's token.</summary>
    public async Task<(Guid HomeId, string Token)> NewHomeAsync()
    {
        var identity = Identity();
        var tokens = await identity.RegisterAndLoginAsync(IdentityClient.NewEmail());
        return await identity.CreateHomeAsync(tokens.GetProperty("accessToken").GetString()!);
    }

    public async Task<SharedHome> SharedHomeAsync()
    {
        await _sharedHomeLock.WaitAsync(TestContext.Current.CancellationToken);
        try
        {
            if (_sharedHome is null)
            {
                var ct = TestContext.Current.CancellationToken;
                var (homeId, token) = await NewHomeAsync();
                var devices = Devices();
                using var room = await devices.SendAsync(HttpMethod.Post, $"/api/v1/homes/{homeId}/rooms", token, new { name = "Kitchen" });
                var roomId = (await room.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("id").GetGuid();
                using var device = await devices.SendAsync(HttpMethod.Post, $"/api/v1/homes/{homeId}/devices", token, new { name = "Fridge plug", kind = "meter", roomId });
                var deviceId = (await device.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("id").GetGuid();
                using var taken = await devices.SendAsync(HttpMethod.Post, $"/api/v1/homes/{homeId}/devices", token, new { name = "Taken", kind = "sensor", externalId = "sensor.taken" });
                taken.EnsureSuccessStatusCode();
                var (otherHome, otherToken) = await NewHomeAsync();
                using var otherRoom = await devices.SendAsync(HttpMethod.Post, $"/api/v1/homes/{otherHome}/rooms", otherToken, new { name = "Elsewhere" });
                var otherRoomId = (await otherRoom.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("id").GetGuid();
                _sharedHome = new SharedHome(homeId, token, roomId, deviceId, otherRoomId);
            }
            return _sharedHome;
        }
        finally
        {
            _sharedHomeLock.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
        _sharedHomeLock.Dispose();
    }
}
