var builder = DistributedApplication.CreateBuilder(args);

// Backing servers: real local processes in run mode, containers in the deployment manifest.
var postgres = builder.AddPostgres("postgres").WithDataVolume();
var cache = builder.AddRedis("cache");
var messaging = builder.AddRabbitMQ("messaging");

// One database per bounded context; no service reads another's.
var identityDb = postgres.AddDatabase("identitydb");
var devicesDb = postgres.AddDatabase("devicesdb");
var readingsDb = postgres.AddDatabase("readingsdb");
var energyDb = postgres.AddDatabase("energydb");
var anomaliesDb = postgres.AddDatabase("anomaliesdb");
var automationsDb = postgres.AddDatabase("automationsdb");
var notificationsDb = postgres.AddDatabase("notificationsdb");

builder.Build().Run();
