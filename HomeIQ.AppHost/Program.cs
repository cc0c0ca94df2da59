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
var identity = builder.AddProject<Projects.HomeIQ_Identity>("identity")
    .WithReference(identityDb).WaitFor(identityDb)
    .WithHttpHealthCheck("/health");

// The device registry (Postgres, with an outbox) and its last-state view (Redis), fed by readings from the broker.
var devices = builder.AddProject<Projects.HomeIQ_Devices>("devices")
    .WithReference(devicesDb).WaitFor(devicesDb)
    .WithReference(cache).WaitFor(cache)
    .WithReference(messaging).WaitFor(messaging)
    .WithReference(identity) // token keys from Identity's JWKS, fetched when the first request arrives
    .WithHttpHealthCheck("/health");

// The single entry point for clients and hubs: the only resource with external endpoints.
builder.AddProject<Projects.HomeIQ_Gateway>("gateway")
    .WithHttpEndpoint(port: 5080)
    .WithReference(identity).WaitFor(identity) // validates tokens with Identity's keys, routes /api/v1/auth and homes to it
    .WithReference(devices).WaitFor(devices)
    .WithExternalHttpEndpoints()
    .WithHttpHealthCheck("/health");

builder.Build().Run();
