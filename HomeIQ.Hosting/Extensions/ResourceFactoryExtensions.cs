using HomeIQ.Hosting.ApplicationModel;
using HomeIQ.Hosting.Servers;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace HomeIQ.Hosting;

/// <summary>The <c>Add…</c> methods that declare resources, named as in Aspire.</summary>
public static class ResourceFactoryExtensions
{
    /// <summary>Adds a project referenced by the AppHost, through its generated <c>Projects.*</c> type. It gets an <c>http</c> endpoint.</summary>
    public static IResourceBuilder<ProjectResource> AddProject<TProject>(this IDistributedApplicationBuilder builder, string name)
        where TProject : IProjectMetadata, new() =>
        builder.AddProject(name, new TProject());

    /// <summary>Adds a project by the path of its project file (relative to the AppHost directory).</summary>
    public static IResourceBuilder<ProjectResource> AddProject(this IDistributedApplicationBuilder builder, string name, string projectPath) =>
        builder.AddProject(name, new ProjectMetadata(Path.GetFullPath(Path.Combine(builder.AppHostDirectory, projectPath))));

    private static IResourceBuilder<ProjectResource> AddProject(this IDistributedApplicationBuilder builder, string name, IProjectMetadata metadata) =>
        builder.AddResource(new ProjectResource(name, metadata)).WithHttpEndpoint();

    /// <summary>Adds any program; give it endpoints with <c>WithHttpEndpoint(env: "PORT")</c>.</summary>
    public static IResourceBuilder<ExecutableResource> AddExecutable(this IDistributedApplicationBuilder builder, string name, string command,
        string workingDirectory, params string[] args)
    {
        var resource = builder.AddResource(new ExecutableResource(name, command, Path.GetFullPath(Path.Combine(builder.AppHostDirectory, workingDirectory))));
        return args.Length > 0 ? resource.WithArgs([.. args]) : resource;
    }

    /// <summary>Adds a parameter read from <c>Parameters:{name}</c>.</summary>
    public static IResourceBuilder<ParameterResource> AddParameter(this IDistributedApplicationBuilder builder, string name, bool secret = false) =>
        builder.AddResource(new ParameterResource(name, secret));

    /// <summary>Adds a connection string read from <c>ConnectionStrings:{name}</c>, for a server HomeIQ does not run.</summary>
    public static IResourceBuilder<ConnectionStringResource> AddConnectionString(this IDistributedApplicationBuilder builder, string name)
    {
        var value = new ParameterResource(name + "-connection-string", secret: true) { ConfigurationKey = $"ConnectionStrings:{name}" };
        builder.AddResource(value);
        return builder.AddResource(new ConnectionStringResource(name, value));
    }

    /// <summary>Adds a PostgreSQL server (user <c>postgres</c>, generated password).</summary>
    public static IResourceBuilder<PostgresServerResource> AddPostgres(this IDistributedApplicationBuilder builder, string name,
        IResourceBuilder<ParameterResource>? password = null, int? port = null) =>
        builder.AddServer(name, password, p => new PostgresServerResource(name, p), new PostgresServer(), port);

    /// <summary>Adds a database to a PostgreSQL server; it is created when the server is ready.</summary>
    public static IResourceBuilder<PostgresDatabaseResource> AddDatabase(this IResourceBuilder<PostgresServerResource> builder, string name, string? databaseName = null)
    {
        var database = new PostgresDatabaseResource(name, databaseName ?? name, builder.Resource);
        builder.Resource.AddDatabase(name, database.DatabaseName);
        var probe = new PostgresServer();
        return builder.ApplicationBuilder.AddResource(database)
            .WithAnnotation(new ResourceRelationshipAnnotation(builder.Resource, "Parent"))
            .WithAnnotation(ProbeCheck(database, probe.ProbeAsync));
    }

    /// <summary>Adds a Redis server; it always requires its generated password.</summary>
    public static IResourceBuilder<RedisResource> AddRedis(this IDistributedApplicationBuilder builder, string name,
        int? port = null, IResourceBuilder<ParameterResource>? password = null) =>
        builder.AddServer(name, password, p => new RedisResource(name, p), new RedisServer(), port);

    /// <summary>Adds a RabbitMQ broker (user <c>guest</c>, generated password).</summary>
    public static IResourceBuilder<RabbitMQServerResource> AddRabbitMQ(this IDistributedApplicationBuilder builder, string name,
        IResourceBuilder<ParameterResource>? password = null, int? port = null) =>
        builder.AddServer(name, password, p => new RabbitMQServerResource(name, p), new RabbitMQServer(), port);

    /// <summary>Adds a server with its endpoint, launcher and health probe; without a given password, <c>{name}-password</c> is generated (≥ 22 characters).</summary>
    private static IResourceBuilder<T> AddServer<T>(this IDistributedApplicationBuilder builder, string name, IResourceBuilder<ParameterResource>? password,
        Func<ParameterResource, T> create, ILocalServer local, int? port) where T : ServerResource
    {
        var passwordParameter = password?.Resource
            ?? new ParameterResource($"{name}-password", secret: true) { Default = new GenerateParameterDefault(MinLength: 22) };
        var server = builder.AddResource(create(passwordParameter))
            .WithAnnotation(new EndpointAnnotation(ServerResource.PrimaryEndpointName, "tcp", "tcp", port, null))
            .WithAnnotation(new LocalServerAnnotation(local));
        server.WithAnnotation(ProbeCheck(server.Resource, local.ProbeAsync));
        if (password is null)
        {
            builder.AddResource(passwordParameter);
        }
        return server;
    }

    private static HealthCheckAnnotation ProbeCheck(IResourceWithConnectionString resource, Func<string, CancellationToken, Task> probe) =>
        new($"{resource.Name}_check", async ct =>
        {
            try
            {
                await probe(await resource.ConnectionStringExpression.GetValueAsync(ct).ConfigureAwait(false) ?? "", ct).ConfigureAwait(false);
                return HealthCheckResult.Healthy();
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                return HealthCheckResult.Unhealthy(ex.Message, ex);
            }
        });
}
