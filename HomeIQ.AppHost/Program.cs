using Microsoft.Extensions.Configuration;

var builder = DistributedApplication.CreateBuilder(args);

// Backing servers: Aspire's containers, or local processes from Debian's packages when no container runtime answers
// (HomeIQ:LocalServers = auto | always | never). The deployment manifest always has the containers.
builder.AddLocalServers();
var postgres = builder.AddPostgres("postgres").WithDataVolume()
    // Readings writes tens of MB a second. By default Postgres leaves its writes to the kernel, which lets up to 30 s of them pile up
    // and then flushes them at once, stalling every commit for hundreds of ms: have each connection hand its writes to the disk as
    // it goes (bench/RESULTS.md, "Postgres hands its writes to the disk as it goes").
    .WithArgs("-c", "backend_flush_after=256kB");
var cache = builder.AddRedis("cache");
var messaging = builder.AddRabbitMQ("messaging");
// Mosquitto for MQTT devices (Zigbee2MQTT, Tasmota, Shelly): user homeiq, generated password (mqtt-password), no anonymous access.
// A broker the user already runs instead: its address and credentials as the secret connection string ConnectionStrings:mqtt
// (mqtt://user:password@host:port, in the AppHost's user secrets).
IResourceBuilder<IResourceWithConnectionString> mqtt = builder.Configuration["ConnectionStrings:mqtt"] is { Length: > 0 }
    ? builder.AddConnectionString("mqtt")
    : builder.AddMqttBroker("mqtt").WithDataVolume();

// One database per bounded context, declared with the service that owns it; no service reads another's.
var identityDb = postgres.AddDatabase("identitydb");
var devicesDb = postgres.AddDatabase("devicesdb");
var readingsDb = postgres.AddDatabase("readingsdb");
var energyDb = postgres.AddDatabase("energydb");
var anomaliesDb = postgres.AddDatabase("anomaliesdb");
var automationsDb = postgres.AddDatabase("automationsdb");
var notificationsDb = postgres.AddDatabase("notificationsdb");

// Users, homes and roles; issues the tokens every other service validates (through its JWKS, found as http://identity).
// Services that call others' internal routes get a client secret: a generated secret parameter, kept across runs,
// given to Identity as Identity__Clients__{name} and to the service as Authentication__Client__Secret.
var ingestionClientSecret = builder.AddParameter("ingestion-client-secret", new GenerateParameterDefault { MinLength = 32 }, secret: true, persist: true);

var identity = builder.AddProject<Projects.HomeIQ_Identity>("identity")
    .WithReference(identityDb).WaitFor(identityDb)
    .WithEnvironment("Identity__Clients__ingestion", ingestionClientSecret)
    .WithHttpHealthCheck("/health");

// The device registry (Postgres, with an outbox) and its last-state view (Redis), fed by readings from the broker.
var devices = builder.AddProject<Projects.HomeIQ_Devices>("devices")
    .WithReference(devicesDb).WaitFor(devicesDb)
    .WithReference(cache).WaitFor(cache)
    .WithReference(messaging).WaitFor(messaging)
    .WithReference(identity) // token keys from Identity's JWKS, fetched when the first request arrives
    .WithHttpHealthCheck("/health");

// Takes readings in from hubs and Home Assistant, validates them against the registry, and answers 202 only once the broker has them.
// It keeps no data of its own, so it runs twice: the Home Assistant bridge runs in one replica at a time (a lease in Redis), and a
// device command is handed, through a registry in Redis, to the replica that holds the hub's stream or the bridge.
var ingestion = builder.AddProject<Projects.HomeIQ_Ingestion>("ingestion")
    .WithReplicas(2)
    .WithReference(messaging).WaitFor(messaging)
    .WithReference(cache).WaitFor(cache)
    .WithReference(mqtt).WaitFor(mqtt)
    // Hub keys and its own token from Identity, device lookups from Devices: asked per request (503 with Retry-After while
    // either is down), so no wait: it starts alongside them.
    .WithReference(identity)
    .WithReference(devices)
    .WithEnvironment("Authentication__Client__Secret", ingestionClientSecret)
    .WithHttpHealthCheck("/health");
if (builder.Configuration["HomeAssistant:Url"] is { Length: > 0 } homeAssistantUrl)
{
    // Optional: set HomeAssistant:Url, HomeAssistant:HomeId (and HomeAssistant:RegisterUnknownEntities) and the homeassistant-token
    // parameter (user secrets: Parameters:homeassistant-token) to bridge a Home Assistant.
    ingestion.WithEnvironment("HomeAssistant__Url", homeAssistantUrl)
        .WithEnvironment("HomeAssistant__HomeId", builder.Configuration["HomeAssistant:HomeId"])
        .WithEnvironment("HomeAssistant__RegisterUnknownEntities", builder.Configuration["HomeAssistant:RegisterUnknownEntities"] ?? "false")
        .WithEnvironment("HomeAssistant__AccessToken", builder.AddParameter("homeassistant-token", secret: true));
}
// Optional: the home the broker's devices belong to (Mqtt:HomeId), or several homes each under a topic prefix (Mqtt:Homes:N:HomeId,
// Mqtt:Homes:N:TopicPrefix), and whether unknown devices are registered (Mqtt:RegisterUnknownDevices).
foreach (var setting in builder.Configuration.GetSection("Mqtt").AsEnumerable(true).Where(s => s.Value is not null))
{
    ingestion.WithEnvironment("Mqtt__" + setting.Key.Replace(":", "__", StringComparison.Ordinal), setting.Value);
}

// The time-series store: consumes readings from the broker, COPYs them into day partitions, answers range and downsampled queries.
var readings = builder.AddProject<Projects.HomeIQ_Readings>("readings")
    .WithReference(readingsDb).WaitFor(readingsDb)
    .WithReference(messaging).WaitFor(messaging)
    .WithReference(identity)
    .WithHttpHealthCheck("/health");

// Energy: kWh per device, room and home from the readings on the broker (its own queue), tariffs and cost.
var energy = builder.AddProject<Projects.HomeIQ_Energy>("energy")
    .WithReference(energyDb).WaitFor(energyDb)
    .WithReference(messaging).WaitFor(messaging)
    .WithReference(identity)
    .WithHttpHealthCheck("/health");

// Anomalies: learns each device metric's behaviour from the readings on the broker (its own queue) and raises anomalies,
// offline and stuck sensors through its outbox.
var anomalies = builder.AddProject<Projects.HomeIQ_Anomalies>("anomalies")
    .WithReference(anomaliesDb).WaitFor(anomaliesDb)
    .WithReference(messaging).WaitFor(messaging)
    .WithReference(identity)
    .WithHttpHealthCheck("/health");

// Automations: rules and scenes. Scenes run as sagas (persisted, compensated in reverse on failure); each step is a device command
// sent over the broker to Ingestion, whose reply comes back to Automations' own durable queue.
var automations = builder.AddProject<Projects.HomeIQ_Automations>("automations")
    .WithReference(automationsDb).WaitFor(automationsDb)
    .WithReference(messaging).WaitFor(messaging)
    .WithReference(identity)
    .WithHttpHealthCheck("/health");

// Notifications: every member's inbox from the anomaly and automation events on the broker (its own queue), pushed live over SignalR.
// Two replicas share pushes through a Redis backplane on the cache. It asks Identity for a home's members with its own client secret.
var notificationsClientSecret = builder.AddParameter("notifications-client-secret", new GenerateParameterDefault { MinLength = 32 }, secret: true, persist: true);
identity.WithEnvironment("Identity__Clients__notifications", notificationsClientSecret);
var notifications = builder.AddProject<Projects.HomeIQ_Notifications>("notifications")
    .WithReplicas(2)
    .WithReference(notificationsDb).WaitFor(notificationsDb)
    .WithReference(messaging).WaitFor(messaging)
    .WithReference(cache).WaitFor(cache)
    // Members are asked per event; while Identity is down the event is retried, so no wait.
    .WithReference(identity)
    .WithEnvironment("Authentication__Client__Secret", notificationsClientSecret)
    .WithHttpHealthCheck("/health");

// The single entry point for clients and hubs: the only resource with external endpoints. It validates tokens with Identity's
// keys (fetched on the first request) and routes by discovery name, answering 503 for a service that is not up yet: no waits.
builder.AddProject<Projects.HomeIQ_Gateway>("gateway")
    .WithReference(identity)
    .WithReference(devices)
    .WithReference(readings)
    .WithReference(ingestion)
    .WithReference(energy)
    .WithReference(anomalies)
    .WithReference(automations)
    .WithReference(notifications)
    .WithExternalHttpEndpoints()
    .WithHttpHealthCheck("/health");

builder.Build().Run();
