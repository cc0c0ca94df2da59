using HomeIQ.Tests.Integration;

[assembly: AssemblyFixture(typeof(AppHostFixture))]

namespace HomeIQ.Tests.Integration;

/// <summary>
/// The real HomeIQ AppHost composition with the Aspire dashboard, started once for the whole test assembly, plus sample projects that
/// reference its servers: "echo" (references everything), "echo-replicated" (two replicas) and "restartable".
/// </summary>
public sealed class AppHostFixture : IAsyncLifetime
{
    private DistributedApplication? _app;

    /// <summary>Receives the OTLP export of the "echo-otlp" service.</summary>
    public OtlpCapture Otlp { get; } = new();

    public DistributedApplication App => _app ?? throw new InvalidOperationException("The AppHost has not started.");

    /// <summary>The secret of the "test-client" service client registered with Identity for the tests.</summary>
    public string IdentityClientSecret { get; } = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));

    public async ValueTask InitializeAsync()
    {
        // Every integration test needs this AppHost. DCP has, rarely, stalled while creating the resources of a first start (right after
        // another composition stopped): the start is then tried once more, from scratch, rather than failing every test of the run.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await StartAsync();
                return;
            }
            catch (Exception ex) when (attempt == 1 && ex is OperationCanceledException or DistributedApplicationException or TimeoutException)
            {
                Console.Error.WriteLine($"The test AppHost did not start ({ex.GetType().Name}: {ex.Message}); starting it again.");
                if (_app is not null)
                {
                    await _app.DisposeAsync();
                    _app = null;
                }
            }
        }
    }

    /// <summary>Builds and starts the composition into <see cref="_app"/> (set before the start, so a failed start is still disposed).</summary>
    private async Task StartAsync()
    {
        // As the other fixtures: some thirty processes start on two cores, and 120 s proved too short once the AppHost gained Energy and Anomalies.
        var ct = TestApps.Timeout(TestApps.FixtureStartTimeout);
        var builder = await TestApps.CreateAppHostAsync(ct, dashboard: true);
        var devicesDb = builder.CreateResourceBuilder<PostgresDatabaseResource>("devicesdb");
        var cache = builder.CreateResourceBuilder<RedisResource>("cache");
        var messaging = builder.CreateResourceBuilder<RabbitMQServerResource>("messaging");

        builder.CreateResourceBuilder<ProjectResource>("identity").WithEnvironment("Identity__Clients__test-client", IdentityClientSecret);
        var replicated = builder.AddProject<Projects.EchoService>("echo-replicated").WithReplicas(2).WithHttpHealthCheck("/health");
        builder.AddProject<Projects.EchoService>("echo")
            .WithReference(devicesDb).WaitFor(devicesDb)
            .WithReference(cache).WaitFor(cache)
            .WithReference(messaging).WaitFor(messaging)
            .WithReference(replicated)
            .WithEnvironment("HOMEIQ_SAMPLE", "from-apphost")
            .WithHttpHealthCheck("/health");
        builder.AddProject<Projects.EchoService>("restartable").WithHttpHealthCheck("/health");

        // The gateway also routes /api/v1/echo/** to echo, so tests can see what it forwards; per-user limits are low for the 429 test.
        var echo = builder.CreateResourceBuilder<ProjectResource>("echo");
        builder.CreateResourceBuilder<ProjectResource>("gateway")
            .WithReference(echo)
            .WithEnvironment("ReverseProxy__Routes__echo__ClusterId", "echo")
            .WithEnvironment("ReverseProxy__Routes__echo__Match__Path", "/api/v1/echo/{**rest}")
            .WithEnvironment("ReverseProxy__Clusters__echo__Destinations__echo__Address", "http://echo")
            .WithEnvironment("Gateway__RateLimits__PerUserPerSecond", "2")
            .WithEnvironment("Gateway__RateLimits__PerUserBurst", "10")
            // Every test calls from 127.0.0.1: one shared anonymous bucket would make register/login calls of parallel tests collide.
            .WithEnvironment("Gateway__RateLimits__AnonymousPerSecond", "100000")
            .WithEnvironment("Gateway__RateLimits__AnonymousBurst", "100000")
            // As when deployed (Aspire sets it in publish mode): the client address comes from X-Forwarded-For, so a test can be its own client.
            .WithEnvironment("ASPNETCORE_FORWARDEDHEADERS_ENABLED", "true")
            // Low enough for the per-address test (which calls with its own X-Forwarded-For address) to reach it.
            .WithEnvironment("Gateway__RateLimits__PerAddressOnHubRoutesPerSecond", "5")
            .WithEnvironment("Gateway__RateLimits__PerAddressOnHubRoutesBurst", "20");

        // Event-bus tests: a database for in-process buses, a sample service that uses the outbox, and a service whose database is down.
        var postgres = builder.CreateResourceBuilder<PostgresServerResource>("postgres");
        postgres.AddDatabase("eventbustestdb");
        var outboxDb = postgres.AddDatabase("outboxdb");
        builder.AddProject<Projects.OutboxSample>("outbox-sample")
            .WithReference(outboxDb).WaitFor(outboxDb)
            .WithReference(messaging).WaitFor(messaging)
            .WithHttpHealthCheck("/health");
        builder.AddProject<Projects.EchoService>("echo-otlp")
            .WithEnvironment("OTEL_EXPORTER_OTLP_ENDPOINT", Otlp.Endpoint)
            .WithEnvironment("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
            .WithEnvironment("OTEL_EXPORTER_OTLP_HEADERS", "x-otlp-api-key=test-key")
            .WithHttpHealthCheck("/health");
        builder.AddProject<Projects.EchoService>("echo-nodb").WithEnvironment("ConnectionStrings__db", "Host=127.0.0.1;Port=1;Username=x;Password=y;Database=db;Timeout=2");

        _app = await builder.BuildAsync(ct);
        await _app.StartAsync(ct);
        foreach (var resource in new[] { "postgres", "cache", "messaging", "devicesdb", "echo", "echo-replicated", "restartable", "eventbustestdb", "outbox-sample", "echo-nodb", "echo-otlp", "identity", "devices", "gateway" })
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
        Otlp.Dispose();
    }
}
