using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using HomeIQ.Contracts;
using HomeIQ.Tests.EventBus;
using HomeIQ.Tests.Identity;
using HomeIQ.Tests.Integration;
using RabbitMQ.Client;
using StackExchange.Redis;

namespace HomeIQ.Tests.Devices;

/// <summary>The Devices service on real Postgres, Redis and RabbitMQ, with tokens from the real Identity service.</summary>
public sealed partial class DevicesTests(DevicesFixture fixture) : IClassFixture<DevicesFixture>
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);

    private static async Task<Guid> CreateAsync(IdentityClient devices, string path, string token, object body)
    {
        using var response = await devices.SendAsync(HttpMethod.Post, path, token, body);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await JsonAsync(response)).GetProperty("id").GetGuid();
    }

    [Fact]
    public async Task ARegisteredDeviceReadsBackAloneAndInTheFilteredAndPagedList()
    {
        var devices = fixture.Devices();
        var (homeId, token) = await fixture.NewHomeAsync();
        var home = $"/api/v1/homes/{homeId}";
        var kitchen = await CreateAsync(devices, $"{home}/rooms", token, new { name = "Kitchen" });
        var capabilities = new[] { new { metric = "temperature", unit = "°C", min = -40.0, max = 80.0, writable = false } };
        var sensor = await CreateAsync(devices, $"{home}/devices", token,
            new { name = "Kitchen climate", kind = "sensor", roomId = kitchen, externalId = "sensor.kitchen_temperature", capabilities });
        await CreateAsync(devices, $"{home}/devices", token, new { name = "Kitchen light", kind = "dimmer", roomId = kitchen });
        await CreateAsync(devices, $"{home}/devices", token, new { name = "Hall switch", kind = "switch" });

        using var one = await devices.SendAsync(HttpMethod.Get, $"{home}/devices/{sensor}", token);
        using var all = await devices.SendAsync(HttpMethod.Get, $"{home}/devices", token);
        using var inKitchen = await devices.SendAsync(HttpMethod.Get, $"{home}/devices?roomId={kitchen}", token);
        using var sensors = await devices.SendAsync(HttpMethod.Get, $"{home}/devices?kind=sensor", token);
        using var secondPage = await devices.SendAsync(HttpMethod.Get, $"{home}/devices?limit=2&offset=2", token);

        var device = await JsonAsync(one);
        Assert.Equal("Kitchen climate", device.GetProperty("name").GetString());
        Assert.Equal(kitchen, device.GetProperty("roomId").GetGuid());
        Assert.Equal("sensor.kitchen_temperature", device.GetProperty("externalId").GetString());
        Assert.Equal(80.0, device.GetProperty("capabilities")[0].GetProperty("max").GetDouble());
        Assert.Equal(3, (await JsonAsync(all)).GetProperty("total").GetInt32());
        Assert.Equal(2, (await JsonAsync(inKitchen)).GetProperty("items").GetArrayLength());
        Assert.Equal(sensor, Assert.Single((await JsonAsync(sensors)).GetProperty("items").EnumerateArray()).GetProperty("id").GetGuid());
        var page = await JsonAsync(secondPage);
        Assert.Equal(3, page.GetProperty("total").GetInt32());
        Assert.Equal("Hall switch", Assert.Single(page.GetProperty("items").EnumerateArray()).GetProperty("name").GetString());
    }

    [Fact]
    public async Task UpdatingMovesADeviceAndDeletingItsRoomLeavesItWithoutARoom()
    {
        var devices = fixture.Devices();
        var (homeId, token) = await fixture.NewHomeAsync();
        var home = $"/api/v1/homes/{homeId}";
        var room = await CreateAsync(devices, $"{home}/rooms", token, new { name = "Garage" });
        var device = await CreateAsync(devices, $"{home}/devices", token, new { name = "Charger", kind = "meter" });

        using var moved = await devices.SendAsync(HttpMethod.Put, $"{home}/devices/{device}", token, new { name = "EV charger", kind = "meter", roomId = room });
        using var renamed = await devices.SendAsync(HttpMethod.Patch, $"{home}/rooms/{room}", token, new { name = "Carport" });
        using var roomDeleted = await devices.SendAsync(HttpMethod.Delete, $"{home}/rooms/{room}", token);
        using var after = await devices.SendAsync(HttpMethod.Get, $"{home}/devices/{device}", token);
        using var deviceDeleted = await devices.SendAsync(HttpMethod.Delete, $"{home}/devices/{device}", token);
        using var gone = await devices.SendAsync(HttpMethod.Get, $"{home}/devices/{device}", token);

        Assert.Equal(room, (await JsonAsync(moved)).GetProperty("roomId").GetGuid());
        Assert.Equal("Carport", (await JsonAsync(renamed)).GetProperty("name").GetString());
        Assert.Equal(HttpStatusCode.NoContent, roomDeleted.StatusCode);
        Assert.Equal(JsonValueKind.Null, (await JsonAsync(after)).GetProperty("roomId").ValueKind);
        Assert.Equal(HttpStatusCode.NoContent, deviceDeleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task AUserOfAnotherHomeGets404OnEveryHomeRouteOfTheOpenApiDocument()
    {
        var devices = fixture.Devices();
        var shared = await fixture.SharedHomeAsync();
        var (_, outsider) = await fixture.NewHomeAsync();
        var routes = await HomeRoutes.FromOpenApiAsync(devices.Http, "/openapi/v1.json", shared.HomeId,
            new Dictionary<string, Guid> { ["deviceId"] = shared.DeviceId, ["roomId"] = shared.RoomId });

        var wrong = await HomeRoutes.NotAnswering404Async(devices, routes, outsider, new { name = "x", kind = "sensor" });

        Assert.Empty(wrong);
        Assert.True(routes.Count >= 11, $"only {routes.Count} home routes in the OpenAPI document");
        using var stillThere = await devices.SendAsync(HttpMethod.Get, $"/api/v1/homes/{shared.HomeId}/devices/{shared.DeviceId}", shared.Token);
        Assert.Equal(HttpStatusCode.OK, stillThere.StatusCode);
    }

    [Fact]
    public async Task AGuestCanReadTheDevicesButNotChangeThem()
    {
        var identity = fixture.Identity();
        var devices = fixture.Devices();
        var (homeId, owner) = await fixture.NewHomeAsync();
        var device = await CreateAsync(devices, $"/api/v1/homes/{homeId}/devices", owner, new { name = "Thermostat", kind = "thermostat" });
        var guestEmail = IdentityClient.NewEmail();
        await identity.RegisterAndLoginAsync(guestEmail);
        using var added = await identity.SendAsync(HttpMethod.Post, $"/api/v1/homes/{homeId}/members", owner, new { email = guestEmail, role = "guest" });
        var guest = (await identity.LoginAsync(guestEmail, "correct horse battery")).GetProperty("accessToken").GetString()!;

        using var read = await devices.SendAsync(HttpMethod.Get, $"/api/v1/homes/{homeId}/devices/{device}", guest);
        using var list = await devices.SendAsync(HttpMethod.Get, $"/api/v1/homes/{homeId}/rooms", guest);
        using var register = await devices.SendAsync(HttpMethod.Post, $"/api/v1/homes/{homeId}/devices", guest, new { name = "Mine", kind = "switch" });
        using var update = await devices.SendAsync(HttpMethod.Put, $"/api/v1/homes/{homeId}/devices/{device}", guest, new { name = "Mine", kind = "thermostat" });
        using var delete = await devices.SendAsync(HttpMethod.Delete, $"/api/v1/homes/{homeId}/devices/{device}", guest);
        using var room = await devices.SendAsync(HttpMethod.Post, $"/api/v1/homes/{homeId}/rooms", guest, new { name = "Den" });

        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        Assert.All(new[] { register, update, delete, room }, r => Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode));
    }

    [Fact]
    public async Task RegisteringADevicePublishesDeviceRegisteredThroughTheOutbox()
    {
        var ct = TestApps.Timeout();
        await using var channel = await BusHost.ChannelAsync(fixture.App, ct);
        await channel.ExchangeDeclareAsync("homeiq.events", ExchangeType.Topic, durable: true, cancellationToken: ct);
        var queue = (await channel.QueueDeclareAsync("", durable: false, exclusive: true, autoDelete: true, cancellationToken: ct)).QueueName;
        await channel.QueueBindAsync(queue, "homeiq.events", "device.registered.v1", cancellationToken: ct);
        var (homeId, token) = await fixture.NewHomeAsync();

        var deviceId = await CreateAsync(fixture.Devices(), $"/api/v1/homes/{homeId}/devices", token, new { name = "Porch light", kind = "switch", externalId = "light.porch" });
        JsonElement body;
        BasicGetResult message;
        do
        {
            message = await BusHost.GetAsync(channel, queue, ct);
            body = JsonSerializer.Deserialize<JsonElement>(message.Body.Span);
        }
        while (body.GetProperty("deviceId").GetGuid() != deviceId);

        Assert.Equal("device.registered.v1", message.BasicProperties.Type);
        Assert.Equal(homeId, body.GetProperty("homeId").GetGuid());
        Assert.Equal("light.porch", body.GetProperty("externalId").GetString());
    }

    [Fact]
    public async Task ReadingsFromTheBrokerBecomeTheDeviceStateAndComeBackAfterRedisIsFlushed()
    {
        var ct = TestApps.Timeout();
        var devices = fixture.Devices();
        var (homeId, token) = await fixture.NewHomeAsync();
        var home = $"/api/v1/homes/{homeId}";
        var deviceId = await CreateAsync(devices, $"{home}/devices", token, new { name = "Office climate", kind = "sensor" });
        var now = DateTimeOffset.UtcNow;
        await using var channel = await BusHost.ChannelAsync(fixture.App, ct);
        await PublishAsync(channel, new ReadingsStored(homeId, 4, [
            new LatestReading(deviceId, "temperature", 20.5, "°C", now.AddSeconds(-10)),
            new LatestReading(deviceId, "temperature", 21.5, "°C", now),
            new LatestReading(deviceId, "humidity", 40, "%", now),
            new LatestReading(Guid.NewGuid(), "temperature", 99, "°C", now),
        ]), ct);
        await PublishAsync(channel, new ReadingsStored(homeId, 1, [new LatestReading(deviceId, "temperature", 5, "°C", now.AddMinutes(-5))]), ct);

        var state = await WaitForStateAsync(devices, $"{home}/devices/{deviceId}", token, s => s.TryGetProperty("humidity", out _), ct);
        Assert.Equal(21.5, state.GetProperty("temperature").GetProperty("value").GetDouble());
        Assert.Equal("°C", state.GetProperty("temperature").GetProperty("unit").GetString());
        // The view exists now, so what follows reaches it through the handlers, not through the GET's rebuild.
        await PublishAsync(channel, new ReadingsStored(homeId, 1, [new LatestReading(deviceId, "temperature", 22.5, "°C", now.AddSeconds(1))]), ct);
        var changed = new DeviceStateChanged(homeId, deviceId, "heating", new Dictionary<string, string> { ["mode"] = "eco" });
        await channel.BasicPublishAsync("homeiq.events", "device.state-changed.v1", mandatory: false,
            new BasicProperties { MessageId = changed.Id.ToString(), Type = "device.state-changed.v1" }, JsonSerializer.SerializeToUtf8Bytes(changed, Web), ct);
        state = await WaitForStateAsync(devices, $"{home}/devices/{deviceId}", token,
            s => s.TryGetProperty("state", out _) && s.GetProperty("temperature").GetProperty("value").GetDouble() == 22.5, ct);
        Assert.Equal("heating", state.GetProperty("state").GetProperty("value").GetString());
        Assert.Equal("eco", state.GetProperty("mode").GetProperty("value").GetString());

        using var redis = await ConnectionMultiplexer.ConnectAsync(await fixture.App.GetConnectionStringAsync("cache", ct) + ",allowAdmin=true");
        var server = redis.GetServer(redis.GetEndPoints()[0]);
        var key = $"device:{deviceId}:state";
        await server.FlushDatabaseAsync();
        Assert.False(await redis.GetDatabase().KeyExistsAsync(key));
        using var rebuilt = await devices.SendAsync(HttpMethod.Post, $"{home}/devices/state/rebuild", token);
        Assert.Equal(HttpStatusCode.OK, rebuilt.StatusCode);
        Assert.Equal(1, (await JsonAsync(rebuilt)).GetProperty("devices").GetInt32());
        Assert.Equal(4, (await redis.GetDatabase().HashGetAllAsync(key)).Length);

        await server.FlushDatabaseAsync();
        using var afterFlush = await devices.SendAsync(HttpMethod.Get, $"{home}/devices/{deviceId}", token);
        Assert.Equal(22.5, (await JsonAsync(afterFlush)).GetProperty("state").GetProperty("temperature").GetProperty("value").GetDouble());
        Assert.True(await redis.GetDatabase().KeyExistsAsync(key), "the GET rebuilt the missing view");
    }

    [Fact]
    public async Task EventsHandledTogetherKeepEachDevicesNewestValueFromItsOwnHomeOnly()
    {
        var ct = TestApps.Timeout();
        var devices = fixture.Devices();
        var (homeA, tokenA) = await fixture.NewHomeAsync();
        var (homeB, tokenB) = await fixture.NewHomeAsync();
        var deviceA = await CreateAsync(devices, $"/api/v1/homes/{homeA}/devices", tokenA, new { name = "Hall thermometer", kind = "sensor" });
        var deviceB = await CreateAsync(devices, $"/api/v1/homes/{homeB}/devices", tokenB, new { name = "Barn thermometer", kind = "sensor" });
        var now = DateTimeOffset.UtcNow;
        await using var channel = await BusHost.ChannelAsync(fixture.App, ct);

        // Published back to back, so that Devices takes them in one batch.
        var humidity = new ReadingsStored(homeA, 1, [new LatestReading(deviceA, "humidity", 40, "%", now)]);
        ReadingsStored[] events =
        [
            new(homeA, 1, [new LatestReading(deviceA, "temperature", 20, "°C", now.AddSeconds(-10))]),
            new(homeB, 1, [new LatestReading(deviceA, "temperature", 99, "°C", now)]), // newer, but home B's event naming home A's device
            new(homeA, 1, [new LatestReading(deviceA, "temperature", 19, "°C", now.AddSeconds(-20))]), // older
            humidity,
            humidity, // the same event again
            new(homeB, 1, [new LatestReading(deviceB, "temperature", 5, "°C", now)]),
        ];
        foreach (var @event in events)
        {
            await PublishAsync(channel, @event, ct);
        }

        // Events can be handled in any order, several at once: the state settles on each metric's newest valid value.
        var stateA = await WaitForStateAsync(devices, $"/api/v1/homes/{homeA}/devices/{deviceA}", tokenA,
            s => ValueOf(s, "temperature") == 20 && ValueOf(s, "humidity") == 40, ct);
        var stateB = await WaitForStateAsync(devices, $"/api/v1/homes/{homeB}/devices/{deviceB}", tokenB, s => ValueOf(s, "temperature") == 5, ct);
        Assert.Equal(20, ValueOf(stateA, "temperature"));
        Assert.Equal(40, ValueOf(stateA, "humidity"));
        Assert.Equal(5, ValueOf(stateB, "temperature"));
        await Task.Delay(TimeSpan.FromSeconds(1), ct); // nothing later moves it
        stateA = await WaitForStateAsync(devices, $"/api/v1/homes/{homeA}/devices/{deviceA}", tokenA, _ => true, ct);
        Assert.Equal(20, ValueOf(stateA, "temperature"));
        Assert.Equal(2, stateA.EnumerateObject().Count());
    }

    [Fact]
    public async Task TheInternalLookupAnswersAServiceTokenAndForbidsAUserToken()
    {
        var identity = fixture.Identity();
        var devices = fixture.Devices();
        var (homeId, token) = await fixture.NewHomeAsync();
        var deviceId = await CreateAsync(devices, $"/api/v1/homes/{homeId}/devices", token,
            new { name = "Heat pump", kind = "meter", capabilities = new[] { new { metric = "power", unit = "W", min = 0.0, writable = false } } });
        using var issued = await identity.SendAsync(HttpMethod.Post, "/api/v1/auth/token", null, new { clientId = "ingestion", clientSecret = fixture.IngestionSecret });
        var service = (await JsonAsync(issued)).GetProperty("accessToken").GetString()!;

        using var found = await devices.SendAsync(HttpMethod.Get, $"/api/v1/internal/devices/{deviceId}", service);
        using var unknown = await devices.SendAsync(HttpMethod.Get, $"/api/v1/internal/devices/{Guid.NewGuid()}", service);
        using var byUser = await devices.SendAsync(HttpMethod.Get, $"/api/v1/internal/devices/{deviceId}", token);
        using var anonymous = await devices.SendAsync(HttpMethod.Get, $"/api/v1/internal/devices/{deviceId}", null);
        using var changed = await devices.SendAsync(HttpMethod.Put, $"/api/v1/homes/{homeId}/devices/{deviceId}", token, new { name = "Heat pump", kind = "thermostat" });
        using var afterChange = await devices.SendAsync(HttpMethod.Get, $"/api/v1/internal/devices/{deviceId}", service);

        var lookup = await JsonAsync(found);
        Assert.Equal(deviceId, lookup.GetProperty("deviceId").GetGuid());
        Assert.Equal(homeId, lookup.GetProperty("homeId").GetGuid());
        Assert.Equal("meter", lookup.GetProperty("kind").GetString());
        Assert.Equal("power", lookup.GetProperty("capabilities")[0].GetProperty("metric").GetString());
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, byUser.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        Assert.Equal("thermostat", (await JsonAsync(afterChange)).GetProperty("kind").GetString());
    }

    private static async Task PublishAsync(IChannel channel, ReadingsStored @event, CancellationToken ct)
    {
        var properties = new BasicProperties { MessageId = @event.Id.ToString(), Type = "readings.stored.v1", ContentType = "application/json" };
        await channel.BasicPublishAsync("homeiq.events", "readings.stored.v1", mandatory: false, properties, JsonSerializer.SerializeToUtf8Bytes(@event, Web), ct);
    }

    /// <summary>The device's state once <paramref name="ready"/> holds, or as it is after a minute (for the assertions to show).</summary>
    private static async Task<JsonElement> WaitForStateAsync(IdentityClient devices, string path, string token, Func<JsonElement, bool> ready, CancellationToken ct)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            using var response = await devices.SendAsync(HttpMethod.Get, path, token);
            var state = (await JsonAsync(response)).GetProperty("state");
            if (ready(state) || waited.Elapsed > TimeSpan.FromMinutes(1))
            {
                return state;
            }
            await Task.Delay(100, ct);
        }
    }

    private static double? ValueOf(JsonElement state, string metric) =>
        state.TryGetProperty(metric, out var entry) ? entry.GetProperty("value").GetDouble() : null;
}
