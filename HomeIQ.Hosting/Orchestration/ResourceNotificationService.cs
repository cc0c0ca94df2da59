using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using HomeIQ.Hosting.ApplicationModel;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace HomeIQ.Hosting;

/// <summary>The resource states, as Aspire names them.</summary>
public static class KnownResourceStates
{
    /// <summary>Declared, waiting for its dependencies.</summary>
    public const string Waiting = nameof(Waiting);
    /// <summary>Being started.</summary>
    public const string Starting = nameof(Starting);
    /// <summary>Its process is running.</summary>
    public const string Running = nameof(Running);
    /// <summary>Running, but the runtime reports a problem.</summary>
    public const string RuntimeUnhealthy = nameof(RuntimeUnhealthy);
    /// <summary>Being stopped.</summary>
    public const string Stopping = nameof(Stopping);
    /// <summary>Stopped, or crashed and not restarted.</summary>
    public const string Exited = nameof(Exited);
    /// <summary>Ran to completion.</summary>
    public const string Finished = nameof(Finished);
    /// <summary>Could not be started (a missing binary, a failed dependency, a port in use).</summary>
    public const string FailedToStart = nameof(FailedToStart);
    /// <summary>Not started yet.</summary>
    public const string NotStarted = nameof(NotStarted);

    /// <summary>The states after which a resource does nothing more by itself.</summary>
    public static readonly IReadOnlyList<string> TerminalStates = [Exited, Finished, FailedToStart];
}

/// <summary>What is known of a resource at one moment.</summary>
public sealed record CustomResourceSnapshot
{
    /// <summary>Project, Executable, Postgres, Redis, RabbitMQ, Parameter…</summary>
    public required string ResourceType { get; init; }

    /// <summary>One of <see cref="KnownResourceStates"/>.</summary>
    public string State { get; init; } = KnownResourceStates.NotStarted;

    /// <summary>Null until the first health check; then the aggregate of every check and replica.</summary>
    public HealthStatus? HealthStatus { get; init; }

    /// <summary>Why the resource is in its state, for failures.</summary>
    public string? StateReason { get; init; }

    /// <summary>The exit code of the last process exit.</summary>
    public int? ExitCode { get; init; }

    /// <summary>When it last started.</summary>
    public DateTimeOffset? StartTimeStamp { get; init; }

    /// <summary>When it last stopped.</summary>
    public DateTimeOffset? StopTimeStamp { get; init; }

    /// <summary>How often it was restarted after a crash.</summary>
    public int RestartCount { get; init; }

    /// <summary>The endpoint URLs, one per replica and endpoint.</summary>
    public ImmutableArray<string> Urls { get; init; } = [];

    /// <summary>The process ids of the running replicas (or server processes).</summary>
    public ImmutableArray<int> ProcessIds { get; init; } = [];

    /// <summary>The environment given to the process; secret values are masked.</summary>
    public ImmutableDictionary<string, string> EnvironmentVariables { get; init; } = ImmutableDictionary<string, string>.Empty;

    /// <summary>The resources this one references.</summary>
    public ImmutableArray<string> References { get; init; } = [];

    /// <summary>Whether this is a terminal state.</summary>
    public bool IsTerminal => KnownResourceStates.TerminalStates.Contains(State);
}

/// <summary>A change of one resource's snapshot.</summary>
public sealed record ResourceEvent(IResource Resource, string ResourceId, CustomResourceSnapshot Snapshot);

/// <summary>Publishes resource state changes and lets callers wait for a state, as Aspire's service of the same name.</summary>
public sealed class ResourceNotificationService
{
    private readonly ConcurrentDictionary<string, ResourceEvent> _latest = new(StringComparer.OrdinalIgnoreCase);
    private readonly Lock _gate = new();
    private readonly List<Channel<ResourceEvent>> _watchers = [];
    private readonly IReadOnlyDictionary<string, IResource> _resources;

    internal ResourceNotificationService(IEnumerable<IResource> resources, CancellationToken stopping)
    {
        _resources = resources.ToDictionary(r => r.Name, StringComparer.OrdinalIgnoreCase);
        foreach (var resource in _resources.Values)
        {
            _latest[resource.Name] = new ResourceEvent(resource, resource.Name, new CustomResourceSnapshot { ResourceType = ResourceTypes.Of(resource) });
        }
        ApplicationStopping = stopping;
    }

    internal CancellationToken ApplicationStopping { get; }

    /// <summary>The current snapshot of a resource.</summary>
    public bool TryGetCurrentState(string resourceName, out ResourceEvent? resourceEvent) => _latest.TryGetValue(resourceName, out resourceEvent);

    /// <summary>Every resource's current snapshot.</summary>
    public IReadOnlyList<ResourceEvent> CurrentStates => [.. _latest.Values.OrderBy(e => e.Resource.Name, StringComparer.Ordinal)];

    /// <summary>Changes the snapshot of a resource and tells every watcher.</summary>
    public Task PublishUpdateAsync(IResource resource, Func<CustomResourceSnapshot, CustomResourceSnapshot> update)
    {
        ResourceEvent next;
        Channel<ResourceEvent>[] watchers;
        lock (_gate)
        {
            var current = _latest[resource.Name];
            next = current with { Snapshot = update(current.Snapshot) };
            _latest[resource.Name] = next;
            watchers = [.. _watchers];
        }
        foreach (var watcher in watchers)
        {
            watcher.Writer.TryWrite(next);
        }
        return Task.CompletedTask;
    }

    /// <summary>Every change from now on, starting with the current snapshot of each resource.</summary>
    public async IAsyncEnumerable<ResourceEvent> WatchAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var channel = Channel.CreateUnbounded<ResourceEvent>();
        lock (_gate)
        {
            foreach (var e in _latest.Values)
            {
                channel.Writer.TryWrite(e);
            }
            _watchers.Add(channel);
        }
        try
        {
            await foreach (var e in channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return e;
            }
        }
        finally
        {
            lock (_gate)
            {
                _watchers.Remove(channel);
            }
        }
    }

    /// <summary>Waits until the resource reaches <paramref name="targetState"/>.</summary>
    public Task<ResourceEvent> WaitForResourceAsync(string resourceName, string targetState, CancellationToken cancellationToken = default) =>
        WaitForResourceAsync(resourceName, e => string.Equals(e.Snapshot.State, targetState, StringComparison.OrdinalIgnoreCase), cancellationToken);

    /// <summary>Waits until the resource's snapshot satisfies <paramref name="predicate"/>.</summary>
    public async Task<ResourceEvent> WaitForResourceAsync(string resourceName, Func<ResourceEvent, bool> predicate, CancellationToken cancellationToken = default)
    {
        EnsureKnown(resourceName);
        await foreach (var e in WatchAsync(cancellationToken).ConfigureAwait(false))
        {
            if (string.Equals(e.Resource.Name, resourceName, StringComparison.OrdinalIgnoreCase) && predicate(e))
            {
                return e;
            }
        }
        throw new OperationCanceledException(cancellationToken);
    }

    /// <summary>
    /// Waits until the resource is Running and Healthy.
    /// Throws <see cref="DistributedApplicationException"/> as soon as it reaches a terminal state instead, so a caller never hangs on a failed resource.
    /// </summary>
    public async Task<ResourceEvent> WaitForResourceHealthyAsync(string resourceName, CancellationToken cancellationToken = default)
    {
        var e = await WaitForResourceAsync(resourceName, e => IsHealthy(e.Snapshot) || e.Snapshot.IsTerminal, cancellationToken).ConfigureAwait(false);
        return e.Snapshot.IsTerminal
            ? throw new DistributedApplicationException(
                $"Resource '{resourceName}' is {e.Snapshot.State} and will not become healthy: {e.Snapshot.StateReason ?? "no reason given"}.")
            : e;
    }

    internal static bool IsHealthy(CustomResourceSnapshot s) =>
        s.State == KnownResourceStates.Running && s.HealthStatus == Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy;

    private void EnsureKnown(string resourceName)
    {
        if (!_resources.ContainsKey(resourceName))
        {
            throw new ArgumentException(
                $"There is no resource named '{resourceName}'. Known resources: {string.Join(", ", _resources.Keys.Order(StringComparer.Ordinal))}.",
                nameof(resourceName));
        }
    }
}

/// <summary>An error in the composition or start-up of a distributed application.</summary>
public sealed class DistributedApplicationException(string message, Exception? inner = null) : Exception(message, inner);

internal static class ResourceTypes
{
    public static string Of(IResource resource) => resource switch
    {
        ProjectResource => "Project",
        ExecutableResource => "Executable",
        PostgresServerResource => "Postgres",
        PostgresDatabaseResource => "PostgresDatabase",
        RedisResource => "Redis",
        RabbitMQServerResource => "RabbitMQ",
        ParameterResource => "Parameter",
        ConnectionStringResource => "ConnectionString",
        _ => resource.GetType().Name.Replace("Resource", "", StringComparison.Ordinal),
    };
}
