namespace HomeIQ.Hosting.ApplicationModel;

/// <summary>A network endpoint a resource listens on.</summary>
public sealed class EndpointAnnotation(string name, string uriScheme, string transport, int? port, int? targetPort) : IResourceAnnotation
{
    /// <summary>The endpoint name: <c>http</c>, <c>https</c>, <c>tcp</c> or a custom one.</summary>
    public string Name { get; } = name;

    /// <summary>The URI scheme used in URLs and discovery.</summary>
    public string UriScheme { get; } = uriScheme;

    /// <summary><c>http</c> or <c>tcp</c>.</summary>
    public string Transport { get; } = transport;

    /// <summary>A fixed host port, or null for an allocated one. Ignored under the testing builder, which randomises ports.</summary>
    public int? Port { get; set; } = port;

    /// <summary>The port the process itself listens on; without a proxy it equals the host port.</summary>
    public int? TargetPort { get; set; } = targetPort;

    /// <summary>Whether the endpoint is exposed outside the application when deployed.</summary>
    public bool IsExternal { get; set; }

    /// <summary>For executables: the environment variable that receives the port.</summary>
    public string? TargetPortEnvironmentVariable { get; set; }

    /// <summary>The endpoints allocated at run time, one per replica.</summary>
    public List<AllocatedEndpoint> AllocatedEndpoints { get; } = [];
}

/// <summary>A concrete loopback address of a running endpoint.</summary>
public sealed record AllocatedEndpoint(string UriScheme, string Host, int Port)
{
    /// <summary>The endpoint URL, such as <c>http://localhost:51234</c>.</summary>
    public string Url => $"{UriScheme}://{Host}:{Port}";
}

/// <summary>Which part of an endpoint an expression refers to.</summary>
public enum EndpointProperty
{
    /// <summary>The whole URL.</summary>
    Url,
    /// <summary>The host name.</summary>
    Host,
    /// <summary>The port.</summary>
    Port,
}

/// <summary>A reference to a named endpoint of a resource, resolved when the application runs.</summary>
public sealed class EndpointReference(IResourceWithEndpoints resource, string endpointName) : IValueProvider, IManifestExpressionProvider
{
    /// <summary>The owning resource.</summary>
    public IResourceWithEndpoints Resource { get; } = resource;

    /// <summary>The endpoint name.</summary>
    public string EndpointName { get; } = endpointName;

    /// <summary>The endpoint annotation; throws a clear error when the resource has no such endpoint.</summary>
    public EndpointAnnotation Annotation =>
        Resource.Annotations.All<EndpointAnnotation>().FirstOrDefault(e => e.Name == EndpointName)
        ?? throw new InvalidOperationException($"Resource '{Resource.Name}' has no endpoint named '{EndpointName}'.");

    /// <summary>Whether the endpoint has been allocated.</summary>
    public bool IsAllocated => Annotation.AllocatedEndpoints.Count > 0;

    /// <summary>The first replica's allocated endpoint.</summary>
    public AllocatedEndpoint Allocated => IsAllocated
        ? Annotation.AllocatedEndpoints[0]
        : throw new InvalidOperationException($"The endpoint '{EndpointName}' of resource '{Resource.Name}' is not allocated yet; the application has not started.");

    /// <summary>The URL of the first replica.</summary>
    public string Url => Allocated.Url;

    /// <summary>The port of the first replica.</summary>
    public int Port => Allocated.Port;

    /// <summary>An expression for one property of the endpoint.</summary>
    public EndpointReferenceExpression Property(EndpointProperty property) => new(this, property);

    /// <inheritdoc />
    public string ValueExpression => $"{{{Resource.Name}.bindings.{EndpointName}.url}}";

    /// <inheritdoc />
    public ValueTask<string?> GetValueAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult<string?>(Url);
}

/// <summary>One property (host, port, URL) of an endpoint reference.</summary>
public sealed class EndpointReferenceExpression(EndpointReference endpoint, EndpointProperty property) : IValueProvider, IManifestExpressionProvider
{
    /// <summary>The endpoint.</summary>
    public EndpointReference Endpoint { get; } = endpoint;

    /// <summary>The property.</summary>
    public EndpointProperty Property { get; } = property;

    /// <inheritdoc />
    public string ValueExpression => $"{{{Endpoint.Resource.Name}.bindings.{Endpoint.EndpointName}.{Property.ToString().ToLowerInvariant()}}}";

    /// <inheritdoc />
    public ValueTask<string?> GetValueAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult<string?>(Property switch
    {
        EndpointProperty.Host => Endpoint.Allocated.Host,
        EndpointProperty.Port => Endpoint.Allocated.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        _ => Endpoint.Allocated.Url,
    });
}
