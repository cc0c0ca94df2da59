using Microsoft.Extensions.Configuration;

var builder = DistributedApplication.CreateBuilder(args);

// Servers stop with the AppHost by default. HomeIQ__PersistentServers=true keeps them running between runs (reused while unchanged),
// which makes restarting the AppHost nearly instant.
var serverLifetime = builder.Configuration.GetValue<bool>("HomeIQ:PersistentServers") ? ContainerLifetime.Persistent : ContainerLifetime.Session;

// Backing servers: real local processes in run mode, containers in the deployment manifest.
var postgres = builder.AddPostgres("postgres").WithDataVolume().WithLifetime(serverLifetime);
var cache = builder.AddRedis("cache").WithLifetime(serverLifetime);
var messaging = builder.AddRabbitMQ("messaging").WithLifetime(serverLifetime);

// One database per bounded context; no service reads another's.
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
var ingestionClientSecret = builder.AddParameter("ingestion-client-secret", new GenerateParameterDefault(MinLength: 32), secret: true);

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
// Stateless, so it runs twice; the Home Assistant bridge runs in one replica at a time (a lease in Redis).
var ingestion = builder.AddProject<Projects.HomeIQ_Ingestion>("ingestion")
    .WithReplicas(2)
    .WithReference(messaging).WaitFor(messaging)
    .WithReference(cache).WaitFor(cache)
    .WithReference(identity).WaitFor(identity) // hub keys, and this service's own token
    .WithReference(devices).WaitFor(devices) // device lookups
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

// The time-series store: consumes readings from the broker, COPYs them into day partitions, answers range and downsampled queries.
var readings = builder.AddProject<Projects.HomeIQ_Readings>("readings")
    .WithReference(readingsDb).WaitFor(readingsDb)
    .WithReference(messaging).WaitFor(messaging)
    .WithReference(identity)
    .WithHttpHealthCheck("/health");

// The single entry point for clients and hubs: the only resource with external endpoints.
builder.AddProject<Projects.HomeIQ_Gateway>("gateway")
    .WithHttpEndpoint(port: 5080)
    .WithReference(identity).WaitFor(identity) // validates tokens with Identity's keys, routes /api/v1/auth and homes to it
    .WithReference(devices).WaitFor(devices)
    .WithReference(readings).WaitFor(readings)
    .WithReference(ingestion).WaitFor(ingestion)
    .WithExternalHttpEndpoints()
    .WithHttpHealthCheck("/health");

builder.Build().Run();
