namespace HomeIQ.Hosting.ApplicationModel;

/// <summary>A backing server run by HomeIQ: a local process in run mode, a container in the manifest.</summary>
public abstract class ServerResource(string name, ParameterResource password, string image, int targetPort)
    : Resource(name), IResourceWithConnectionString, IResourceWithEndpoints, IResourceWithWaitSupport, IResourceWithEnvironment, IResourceWithArgs
{
    /// <summary>The name of the single TCP endpoint of a server.</summary>
    public const string PrimaryEndpointName = "tcp";

    /// <summary>The generated (or configured) password.</summary>
    public ParameterResource PasswordParameter { get; } = password;

    /// <summary>The container image used when deployed.</summary>
    public string Image { get; } = image;

    /// <summary>The port the server listens on inside its container.</summary>
    public int TargetPort { get; } = targetPort;

    /// <summary>The server's TCP endpoint.</summary>
    public EndpointReference PrimaryEndpoint => new(this, PrimaryEndpointName);

    /// <summary>Host of the endpoint.</summary>
    protected EndpointReferenceExpression Host => PrimaryEndpoint.Property(EndpointProperty.Host);

    /// <summary>Port of the endpoint.</summary>
    protected EndpointReferenceExpression Port => PrimaryEndpoint.Property(EndpointProperty.Port);

    /// <inheritdoc />
    public abstract ReferenceExpression ConnectionStringExpression { get; }
}

/// <summary>A PostgreSQL server (user <c>postgres</c>).</summary>
public sealed class PostgresServerResource(string name, ParameterResource password)
    : ServerResource(name, password, "docker.io/library/postgres:17.6", 5432)
{
    private readonly Dictionary<string, string> _databases = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The superuser name.</summary>
    public string UserName => "postgres";

    /// <summary>Database resource name → database name.</summary>
    public IReadOnlyDictionary<string, string> Databases => _databases;

    internal void AddDatabase(string resourceName, string databaseName) => _databases.TryAdd(resourceName, databaseName);

    /// <inheritdoc />
    public override ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"Host={Host};Port={Port};Username={UserName};Password={PasswordParameter}");
}

/// <summary>A database on a PostgreSQL server; its connection string is the server's plus <c>Database=</c>.</summary>
public sealed class PostgresDatabaseResource(string name, string databaseName, PostgresServerResource parent)
    : Resource(name), IResourceWithParent, IResourceWithConnectionString, IResourceWithWaitSupport
{
    /// <summary>The database name on the server.</summary>
    public string DatabaseName { get; } = databaseName;

    /// <summary>The server.</summary>
    public PostgresServerResource Parent { get; } = parent;

    IResource IResourceWithParent.Parent => Parent;

    /// <inheritdoc />
    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"{new ConnectionStringReference(Parent)};Database={DatabaseName}");
}

/// <summary>A Redis server that always requires a password.</summary>
public sealed class RedisResource(string name, ParameterResource password)
    : ServerResource(name, password, "docker.io/library/redis:8.2", 6379)
{
    /// <inheritdoc />
    public override ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"{Host}:{Port},password={PasswordParameter}");
}

/// <summary>A RabbitMQ broker (user <c>guest</c> with a generated password).</summary>
public sealed class RabbitMQServerResource(string name, ParameterResource password)
    : ServerResource(name, password, "docker.io/library/rabbitmq:4.1", 5672)
{
    /// <summary>The user name.</summary>
    public string UserName { get; init; } = "guest";

    /// <inheritdoc />
    public override ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"amqp://{Uri.EscapeDataString(UserName)}:{PasswordParameter:uri}@{Host}:{Port}");
}

/// <summary>The connection string of another resource, written as <c>{name.connectionString}</c> in the manifest.</summary>
public sealed class ConnectionStringReference(IResourceWithConnectionString resource) : IValueProvider, IManifestExpressionProvider
{
    /// <summary>The resource.</summary>
    public IResourceWithConnectionString Resource { get; } = resource;

    /// <inheritdoc />
    public string ValueExpression => $"{{{Resource.Name}.connectionString}}";

    /// <inheritdoc />
    public ValueTask<string?> GetValueAsync(CancellationToken cancellationToken = default) =>
        Resource.ConnectionStringExpression.GetValueAsync(cancellationToken);
}
