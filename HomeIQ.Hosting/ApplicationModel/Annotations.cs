using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace HomeIQ.Hosting.ApplicationModel;

/// <summary>What an environment callback sees and fills.</summary>
public sealed class EnvironmentCallbackContext(DistributedApplicationExecutionContext executionContext, CancellationToken cancellationToken = default)
{
    /// <summary>Variables to set: each value is a string or an <see cref="IValueProvider"/> resolved at start.</summary>
    public Dictionary<string, object> EnvironmentVariables { get; } = new(StringComparer.Ordinal);

    /// <summary>Run or publish.</summary>
    public DistributedApplicationExecutionContext ExecutionContext { get; } = executionContext;

    /// <summary>Cancelled when start-up is abandoned.</summary>
    public CancellationToken CancellationToken { get; } = cancellationToken;
}

/// <summary>Adds environment variables to a resource when it starts.</summary>
public sealed class EnvironmentCallbackAnnotation(Func<EnvironmentCallbackContext, Task> callback) : IResourceAnnotation
{
    /// <summary>Sets one variable.</summary>
    public EnvironmentCallbackAnnotation(string name, Func<object> value)
        : this(c => { c.EnvironmentVariables[name] = value(); return Task.CompletedTask; })
    {
    }

    /// <summary>The callback.</summary>
    public Func<EnvironmentCallbackContext, Task> Callback { get; } = callback;
}

/// <summary>Command-line arguments, each a string or an <see cref="IValueProvider"/>.</summary>
public sealed class CommandLineArgsAnnotation(IReadOnlyList<object> args) : IResourceAnnotation
{
    /// <summary>The arguments.</summary>
    public IReadOnlyList<object> Args { get; } = args;
}

/// <summary>How a resource waits for another.</summary>
public enum WaitType
{
    /// <summary>Until it is Running and healthy.</summary>
    WaitUntilHealthy,
    /// <summary>Until it has exited with the expected code.</summary>
    WaitForCompletion,
}

/// <summary>The resource starts only when <see cref="Resource"/> is ready.</summary>
public sealed class WaitAnnotation(IResource resource, WaitType waitType, int exitCode = 0) : IResourceAnnotation
{
    /// <summary>The resource waited for.</summary>
    public IResource Resource { get; } = resource;

    /// <summary>Healthy, or completed.</summary>
    public WaitType WaitType { get; } = waitType;

    /// <summary>For <see cref="WaitType.WaitForCompletion"/>: the exit code that counts as success.</summary>
    public int ExitCode { get; } = exitCode;
}

/// <summary>The number of processes a project runs as.</summary>
public sealed class ReplicaAnnotation(int replicas) : IResourceAnnotation
{
    /// <summary>The replica count (at least 1).</summary>
    public int Replicas { get; } = replicas >= 1 ? replicas : throw new ArgumentOutOfRangeException(nameof(replicas), "A resource needs at least one replica.");
}

/// <summary>Records that a resource references another (for the dashboard graph and the manifest).</summary>
public sealed class ResourceRelationshipAnnotation(IResource resource, string type) : IResourceAnnotation
{
    /// <summary>The other resource.</summary>
    public IResource Resource { get; } = resource;

    /// <summary>The kind of relationship, such as <c>Reference</c> or <c>WaitFor</c>.</summary>
    public string Type { get; } = type;
}

/// <summary>How long a resource lives.</summary>
public enum ContainerLifetime
{
    /// <summary>Stopped and removed when the AppHost stops.</summary>
    Session,
    /// <summary>Left running when the AppHost stops and reused next run while its configuration is unchanged.</summary>
    Persistent,
}

/// <summary>The lifetime of a server resource.</summary>
public sealed class LifetimeAnnotation(ContainerLifetime lifetime) : IResourceAnnotation
{
    /// <summary>Session or persistent.</summary>
    public ContainerLifetime Lifetime { get; } = lifetime;
}

/// <summary>The resource keeps its data in a stable directory that survives restarts.</summary>
public sealed class DataVolumeAnnotation(string? name) : IResourceAnnotation
{
    /// <summary>The volume name; by default derived from the AppHost and resource names.</summary>
    public string? Name { get; } = name;
}

/// <summary>A health check run against a resource once it is running.</summary>
public sealed class HealthCheckAnnotation(string name, Func<CancellationToken, Task<HealthCheckResult>> check) : IResourceAnnotation
{
    /// <summary>The check name, shown on the dashboard.</summary>
    public string Name { get; } = name;

    /// <summary>Runs the check once.</summary>
    public Func<CancellationToken, Task<HealthCheckResult>> Check { get; } = check;
}

/// <summary>An HTTP health probe against an endpoint of each replica.</summary>
public sealed class HttpHealthCheckAnnotation(string path, string endpointName, int expectedStatusCode) : IResourceAnnotation
{
    /// <summary>The request path.</summary>
    public string Path { get; } = path;

    /// <summary>The endpoint probed.</summary>
    public string EndpointName { get; } = endpointName;

    /// <summary>The status code that counts as healthy.</summary>
    public int ExpectedStatusCode { get; } = expectedStatusCode;
}
