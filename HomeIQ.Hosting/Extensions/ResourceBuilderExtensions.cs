using HomeIQ.Hosting.ApplicationModel;
using HomeIQ.Hosting.Orchestration;

namespace HomeIQ.Hosting;

/// <summary>Wiring, environment, endpoints and lifetime, as in Aspire.Hosting.</summary>
public static class ResourceBuilderExtensions
{
    /// <summary>Gives the resource the connection string of <paramref name="source"/> as <c>ConnectionStrings__{name}</c>.</summary>
    public static IResourceBuilder<TDestination> WithReference<TDestination>(this IResourceBuilder<TDestination> builder,
        IResourceBuilder<IResourceWithConnectionString> source, string? connectionName = null)
        where TDestination : IResourceWithEnvironment
    {
        var resource = source.Resource;
        var name = connectionName ?? resource.ConnectionStringEnvironmentName;
        return builder
            .WithAnnotation(new ResourceRelationshipAnnotation(resource, "Reference"))
            .WithAnnotation(new EnvironmentCallbackAnnotation($"ConnectionStrings__{name}", () => new ConnectionStringReference(resource)));
    }

    /// <summary>Publishes every endpoint of <paramref name="source"/> (every replica) as <c>services__{name}__{endpoint}__{i}</c> for service discovery.</summary>
    public static IResourceBuilder<TDestination> WithReference<TDestination>(this IResourceBuilder<TDestination> builder,
        IResourceBuilder<IResourceWithServiceDiscovery> source)
        where TDestination : IResourceWithEnvironment
    {
        var resource = source.Resource;
        return builder
            .WithAnnotation(new ResourceRelationshipAnnotation(resource, "Reference"))
            .WithAnnotation(new EnvironmentCallbackAnnotation(c =>
            {
                foreach (var (key, value) in ResourceEnvironment.ServiceDiscoveryVariables(resource, c.ExecutionContext))
                {
                    c.EnvironmentVariables[key] = value;
                }
                return Task.CompletedTask;
            }));
    }

    /// <summary>Publishes one endpoint for service discovery.</summary>
    public static IResourceBuilder<TDestination> WithReference<TDestination>(this IResourceBuilder<TDestination> builder, EndpointReference endpoint)
        where TDestination : IResourceWithEnvironment
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        return builder
            .WithAnnotation(new ResourceRelationshipAnnotation(endpoint.Resource, "Reference"))
            .WithAnnotation(new EnvironmentCallbackAnnotation(c =>
            {
                var allocated = endpoint.Annotation.AllocatedEndpoints;
                for (var i = 0; i < allocated.Count; i++)
                {
                    c.EnvironmentVariables[$"services__{endpoint.Resource.Name}__{endpoint.EndpointName}__{i}"] = allocated[i].Url;
                }
                return Task.CompletedTask;
            }));
    }

    /// <summary>Starts the resource only when <paramref name="dependency"/> is Running and healthy; fails it if the dependency fails.</summary>
    public static IResourceBuilder<T> WaitFor<T>(this IResourceBuilder<T> builder, IResourceBuilder<IResource> dependency) where T : IResourceWithWaitSupport =>
        builder.WithAnnotation(new WaitAnnotation(dependency.Resource, WaitType.WaitUntilHealthy))
            .WithAnnotation(new ResourceRelationshipAnnotation(dependency.Resource, "WaitFor"));

    /// <summary>Starts the resource only when <paramref name="dependency"/> has exited with <paramref name="exitCode"/> (migration workers).</summary>
    public static IResourceBuilder<T> WaitForCompletion<T>(this IResourceBuilder<T> builder, IResourceBuilder<IResource> dependency, int exitCode = 0)
        where T : IResourceWithWaitSupport =>
        builder.WithAnnotation(new WaitAnnotation(dependency.Resource, WaitType.WaitForCompletion, exitCode))
            .WithAnnotation(new ResourceRelationshipAnnotation(dependency.Resource, "WaitFor"));

    /// <summary>Sets an environment variable.</summary>
    public static IResourceBuilder<T> WithEnvironment<T>(this IResourceBuilder<T> builder, string name, string? value) where T : IResourceWithEnvironment =>
        builder.WithAnnotation(new EnvironmentCallbackAnnotation(name, () => value ?? ""));

    /// <summary>Sets an environment variable to a run-time value (a parameter, an endpoint, an expression).</summary>
    public static IResourceBuilder<T> WithEnvironment<T>(this IResourceBuilder<T> builder, string name, IValueProvider value) where T : IResourceWithEnvironment =>
        builder.WithAnnotation(new EnvironmentCallbackAnnotation(name, () => value));

    /// <summary>Sets an environment variable to a parameter's value.</summary>
    public static IResourceBuilder<T> WithEnvironment<T>(this IResourceBuilder<T> builder, string name, IResourceBuilder<ParameterResource> parameter)
        where T : IResourceWithEnvironment =>
        builder.WithEnvironment(name, (IValueProvider)parameter.Resource);

    /// <summary>Adds environment variables computed at start.</summary>
    public static IResourceBuilder<T> WithEnvironment<T>(this IResourceBuilder<T> builder, Action<EnvironmentCallbackContext> callback) where T : IResourceWithEnvironment =>
        builder.WithAnnotation(new EnvironmentCallbackAnnotation(c => { callback(c); return Task.CompletedTask; }));

    /// <summary>Adds command-line arguments (strings or run-time values).</summary>
    public static IResourceBuilder<T> WithArgs<T>(this IResourceBuilder<T> builder, params object[] args) where T : IResourceWithArgs =>
        builder.WithAnnotation(new CommandLineArgsAnnotation(args));

    /// <summary>Adds an HTTP endpoint. Without <paramref name="port"/> a free port is allocated; the testing builder always allocates.</summary>
    public static IResourceBuilder<T> WithHttpEndpoint<T>(this IResourceBuilder<T> builder, int? port = null, int? targetPort = null, string? name = null, string? env = null)
        where T : IResourceWithEndpoints
    {
        var endpointName = name ?? "http";
        var existing = builder.Resource.Annotations.All<EndpointAnnotation>().FirstOrDefault(e => e.Name == endpointName);
        if (existing is not null)
        {
            // AddProject declares "http" already; a later WithHttpEndpoint(port: …) refines it, as Aspire's launch profile endpoint would be.
            existing.Port = port ?? existing.Port;
            existing.TargetPort = targetPort ?? existing.TargetPort;
            existing.TargetPortEnvironmentVariable = env ?? existing.TargetPortEnvironmentVariable;
            return builder;
        }
        return builder.WithAnnotation(new EndpointAnnotation(endpointName, "http", "http", port, targetPort) { TargetPortEnvironmentVariable = env });
    }

    /// <summary>Marks every HTTP endpoint as reachable from outside the application when deployed.</summary>
    public static IResourceBuilder<T> WithExternalHttpEndpoints<T>(this IResourceBuilder<T> builder) where T : IResourceWithEndpoints
    {
        foreach (var endpoint in builder.Resource.Annotations.All<EndpointAnnotation>().Where(e => e.Transport == "http"))
        {
            endpoint.IsExternal = true;
        }
        return builder;
    }

    /// <summary>A builder for a resource already declared (for example by the AppHost under test), found by name.</summary>
    public static IResourceBuilder<T> CreateResourceBuilder<T>(this IDistributedApplicationBuilder builder, string name) where T : IResource
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Resources.Find(name) switch
        {
            T resource => builder.CreateResourceBuilder(resource),
            null => throw new ArgumentException($"There is no resource named '{name}'.", nameof(name)),
            var other => throw new ArgumentException($"Resource '{name}' is a {other.GetType().Name}, not a {typeof(T).Name}.", nameof(name)),
        };
    }

    /// <summary>A reference to a named endpoint.</summary>
    public static EndpointReference GetEndpoint<T>(this IResourceBuilder<T> builder, string name) where T : IResourceWithEndpoints =>
        new(builder.Resource, name);

    /// <summary>Runs <paramref name="replicas"/> processes; each gets its own port and all are published for discovery.</summary>
    public static IResourceBuilder<T> WithReplicas<T>(this IResourceBuilder<T> builder, int replicas) where T : ProjectResource =>
        builder.WithAnnotation(new ReplicaAnnotation(replicas));

    /// <summary>Probes <paramref name="path"/> on every replica; the resource is healthy when each answers <paramref name="statusCode"/>.</summary>
    public static IResourceBuilder<T> WithHttpHealthCheck<T>(this IResourceBuilder<T> builder, string path = "/health", int statusCode = 200, string endpointName = "http")
        where T : IResourceWithEndpoints =>
        builder.WithAnnotation(new HttpHealthCheckAnnotation(path, endpointName, statusCode));

    /// <summary>Keeps the server's data in a stable directory that survives restarts.</summary>
    public static IResourceBuilder<T> WithDataVolume<T>(this IResourceBuilder<T> builder, string? name = null) where T : ServerResource =>
        builder.WithAnnotation(new DataVolumeAnnotation(name));

    /// <summary>Session (stopped with the AppHost) or Persistent (left running and reused while its configuration is unchanged).</summary>
    public static IResourceBuilder<T> WithLifetime<T>(this IResourceBuilder<T> builder, ContainerLifetime lifetime) where T : ServerResource =>
        builder.WithAnnotation(new LifetimeAnnotation(lifetime));
}
