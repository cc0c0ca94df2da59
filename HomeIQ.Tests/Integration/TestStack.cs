namespace HomeIQ.Tests.Integration;

/// <summary>The HomeIQ services as the AppHost declares them, for test fixtures that compose a smaller stack of their own.</summary>
internal static class TestStack
{
    /// <summary>Identity with <c>identitydb</c>; <paramref name="ingestionSecret"/> registers the "ingestion" service client.</summary>
    public static IResourceBuilder<ProjectResource> AddIdentityService(this IDistributedApplicationBuilder builder,
        IResourceBuilder<PostgresServerResource> postgres, string? ingestionSecret = null)
    {
        var identityDb = postgres.AddDatabase("identitydb");
        var identity = builder.AddProject<Projects.HomeIQ_Identity>("identity")
            .WithReference(identityDb).WaitFor(identityDb)
            .WithHttpHealthCheck("/health");
        return ingestionSecret is null ? identity : identity.WithEnvironment("Identity__Clients__ingestion", ingestionSecret);
    }

    /// <summary>Devices with <c>devicesdb</c>, the cache and the broker, validating tokens with <paramref name="identity"/>.</summary>
    public static IResourceBuilder<ProjectResource> AddDevicesService(this IDistributedApplicationBuilder builder, IResourceBuilder<PostgresServerResource> postgres,
        IResourceBuilder<RedisResource> cache, IResourceBuilder<RabbitMQServerResource> messaging, IResourceBuilder<ProjectResource> identity)
    {
        var devicesDb = postgres.AddDatabase("devicesdb");
        return builder.AddProject<Projects.HomeIQ_Devices>("devices")
            .WithReference(devicesDb).WaitFor(devicesDb)
            .WithReference(cache).WaitFor(cache)
            .WithReference(messaging).WaitFor(messaging)
            .WithReference(identity).WaitFor(identity)
            .WithHttpHealthCheck("/health");
    }

    /// <summary>Readings with <c>readingsdb</c> and the broker, validating tokens with <paramref name="identity"/>.</summary>
    public static IResourceBuilder<ProjectResource> AddReadingsService(this IDistributedApplicationBuilder builder, IResourceBuilder<PostgresServerResource> postgres,
        IResourceBuilder<RabbitMQServerResource> messaging, IResourceBuilder<ProjectResource> identity)
    {
        var readingsDb = postgres.AddDatabase("readingsdb");
        return builder.AddProject<Projects.HomeIQ_Readings>("readings")
            .WithReference(readingsDb).WaitFor(readingsDb)
            .WithReference(messaging).WaitFor(messaging)
            .WithReference(identity).WaitFor(identity)
            .WithHttpHealthCheck("/health");
    }
}
