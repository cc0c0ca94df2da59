using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using HomeIQ.Contracts;
using HomeIQ.Tests.Identity;
using HomeIQ.Tests.Integration;
using RabbitMQ.Client;

namespace HomeIQ.Tests.Ingestion;

/// <summary>
/// Ingestion with its real dependencies: Postgres (identitydb, devicesdb), Redis, RabbitMQ, Identity (which knows the
/// "ingestion" client) and Devices. Stream limits are lowered so backpressure shows quickly.
/// </summary>
public class IngestionFixture : IAsyncLifetime
{
    private DistributedApplication? _app;

    public DistributedApplication App => _app ?? throw new InvalidOperationException("The ingestion stack has not started.");

    public string IngestionSecret { get; } = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));

    public const int StreamQueueFrames = 4;
    /// <summary>
    /// How long the frame queue may stay full before the server gives up on the client. A full queue also means the server is slow:
    /// with 2 s, a loaded CI machine (2026-11-27) once disconnected the test client that reads everything while its frames waited
    /// for device lookups.
    /// </summary>
    public static readonly TimeSpan SlowClientTimeout = TimeSpan.FromSeconds(5);

    public virtual async ValueTask InitializeAsync()
    {
        var ct = TestApps.Timeout(TestApps.FixtureStartTimeout);
        var builder = TestApps.CreateBuilder();
        var postgres = builder.AddPostgres("postgres");
        var cache = builder.AddRedis("cache");
        var messaging = builder.AddRabbitMQ("messaging");
        var identity = builder.AddIdentityService(postgres, IngestionSecret);
        var devices = builder.AddDevicesService(postgres, cache, messaging, identity);
        // The consumer of readings.received.v1, as in the AppHost: the broker refuses (and ingestion answers 503 to) readings no queue takes.
        builder.AddReadingsService(postgres, messaging, identity);
        var ingestion = builder.AddProject<Projects.HomeIQ_Ingestion>("ingestion")
            .WithReference(messaging).WaitFor(messaging)
            .WithReference(cache).WaitFor(cache)
            .WithReference(identity).WaitFor(identity)
            .WithReference(devices).WaitFor(devices)
            .WithEnvironment("Authentication__Client__Secret", IngestionSecret)
            .WithEnvironment("Ingestion__StreamQueueFrames", StreamQueueFrames.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .WithEnvironment("Ingestion__StreamPublishesInFlight", "2")
            .WithEnvironment("Ingestion__SlowClientTimeout", SlowClientTimeout.ToString())
            .WithHttpHealthCheck("/health");
        Configure(ingestion);

        _app = await builder.BuildAsync(ct);
        await _app.StartAsync(ct);
        await _app.WaitForEveryReplicaHealthyAsync("ingestion", ct);
        await _app.ResourceNotifications.WaitForResourceHealthyAsync("readings", ct);
    }

    /// <summary>Changes the ingestion service's settings for the tests of a derived fixture.</summary>
    protected virtual void Configure(IResourceBuilder<ProjectResource> ingestion)
    {
    }

    internal IdentityClient Identity() => new(App.CreateHttpClient("identity"));

    internal HttpClient Ingestion() => App.CreateHttpClient("ingestion");

    internal Uri StreamUri()
    {
        var http = Ingestion().BaseAddress!;
        return new UriBuilder(http) { Scheme = http.Scheme == "https" ? "wss" : "ws", Path = "/api/v1/ingest/stream" }.Uri;
    }

    /// <summary>A new home with its owner's token, a hub key, and a thermometer (temperature in °C, -40…85; humidity in %, 0…100).</summary>
    internal async Task<HubHome> NewHubHomeAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        var identity = Identity();
        var tokens = await identity.RegisterAndLoginAsync(IdentityClient.NewEmail());
        var (homeId, token) = await identity.CreateHomeAsync(tokens.GetProperty("accessToken").GetString()!);
        using var keyResponse = await identity.SendAsync(HttpMethod.Post, $"/api/v1/homes/{homeId}/hub-keys", token, new { name = "Hub" });
        keyResponse.EnsureSuccessStatusCode();
        var key = await keyResponse.Content.ReadFromJsonAsync<JsonElement>(ct);
        var devices = new IdentityClient(App.CreateHttpClient("devices"));
        using var device = await devices.SendAsync(HttpMethod.Post, $"/api/v1/homes/{homeId}/devices", token, new
        {
            name = "Thermometer",
            kind = "sensor",
            capabilities = new object[]
            {
                new { metric = "temperature", unit = "°C", min = -40.0, max = 85.0 },
                new { metric = "humidity", unit = "%", min = 0.0, max = 100.0 },
                new { metric = "pressure", unit = "hPa" },
            },
        });
        device.EnsureSuccessStatusCode();
        var deviceId = (await device.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("id").GetGuid();
        return new HubHome(homeId, token, key.GetProperty("key").GetString()!, key.GetProperty("id").GetGuid(), deviceId);
    }

    /// <summary>A queue bound to readings.received.v1 on the bus exchange, to see what ingestion published.</summary>
    internal async Task<BrokerTap> TapAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        var factory = new ConnectionFactory { Uri = new Uri((await App.GetConnectionStringAsync("messaging", ct))!) };
        var connection = await factory.CreateConnectionAsync(ct);
        var channel = await connection.CreateChannelAsync(cancellationToken: ct);
        await channel.ExchangeDeclareAsync("homeiq.events", ExchangeType.Topic, durable: true, autoDelete: false, cancellationToken: ct);
        var queue = (await channel.QueueDeclareAsync("", durable: false, exclusive: true, autoDelete: true, cancellationToken: ct)).QueueName;
        await channel.QueueBindAsync(queue, "homeiq.events", "readings.received.v1", cancellationToken: ct);
        return new BrokerTap(connection, channel, queue);
    }

    public virtual async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
        GC.SuppressFinalize(this);
    }
}

/// <summary>The ingestion tests share one stack (the broker-down tests have their own).</summary>
[CollectionDefinition(Name)]
public sealed class IngestionCollection : ICollectionFixture<IngestionFixture>
{
    public const string Name = "ingestion";
}

internal sealed record HubHome(Guid HomeId, string OwnerToken, string HubKey, Guid KeyId, Guid DeviceId);

/// <summary>Reads what was published on readings.received.v1, by each message's content type.</summary>
internal sealed class BrokerTap(IConnection connection, IChannel channel, string queue) : IAsyncDisposable
{
    /// <summary>The content types of the messages read so far.</summary>
    public HashSet<string?> ContentTypes { get; } = [];

    /// <summary>The readings published for <paramref name="homeId"/>, waiting until at least <paramref name="atLeast"/> arrived (or the wait ends).</summary>
    public async Task<List<SensorReading>> ReadingsOfAsync(Guid homeId, int atLeast, TimeSpan? wait = null)
    {
        var readings = new List<SensorReading>();
        var until = DateTime.UtcNow + (wait ?? TimeSpan.FromSeconds(10));
        while (DateTime.UtcNow < until)
        {
            var got = await channel.BasicGetAsync(queue, autoAck: true, TestContext.Current.CancellationToken);
            if (got is null)
            {
                if (readings.Count >= atLeast)
                {
                    // Nothing more queued: give a straggler a moment, then stop.
                    await Task.Delay(300, TestContext.Current.CancellationToken);
                    if ((await channel.MessageCountAsync(queue, TestContext.Current.CancellationToken)) == 0)
                    {
                        break;
                    }
                }
                await Task.Delay(50, TestContext.Current.CancellationToken);
                continue;
            }
            var contentType = got.BasicProperties.ContentType;
            ContentTypes.Add(contentType);
            var received = contentType == SensorReadingsBinary.ContentType
                ? SensorReadingsBinary.Read(got.Body.Span)
                : JsonSerializer.Deserialize(got.Body.Span, ContractsJsonContext.Default.SensorReadingsReceived)!;
            if (received.HomeId == homeId)
            {
                readings.AddRange(received.Readings);
            }
        }
        return readings;
    }

    public async ValueTask DisposeAsync()
    {
        await channel.DisposeAsync();
        await connection.DisposeAsync();
    }
}
