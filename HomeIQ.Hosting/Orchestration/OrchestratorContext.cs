using HomeIQ.Hosting.ApplicationModel;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace HomeIQ.Hosting.Orchestration;

/// <summary>What every resource runner shares during one run of the application.</summary>
internal sealed class OrchestratorContext
{
    public required DistributedApplicationOptions Options { get; init; }
    public required IConfiguration Configuration { get; init; }
    public required AppHostPaths Paths { get; init; }
    public required PortAllocator Ports { get; init; }
    public required ResourceNotificationService Notifications { get; init; }
    public required ResourceLoggerService Logs { get; init; }
    public required DistributedApplicationExecutionContext ExecutionContext { get; init; }
    public required ILogger Logger { get; init; }
    public required SessionRecord Session { get; init; }

    /// <summary>Cancelled when the application stops.</summary>
    public required CancellationToken Stopping { get; init; }

    /// <summary>The OTLP endpoint given to projects, when a dashboard receives telemetry.</summary>
    public string? OtlpEndpoint { get; init; }

    /// <summary>The OTLP API key sent by projects as <c>x-otlp-api-key</c>.</summary>
    public string? OtlpApiKey { get; init; }

    public Task PublishAsync(IResource resource, Func<CustomResourceSnapshot, CustomResourceSnapshot> update) =>
        Notifications.PublishUpdateAsync(resource, update);

    public CustomResourceSnapshot Current(IResource resource) =>
        Notifications.TryGetCurrentState(resource.Name, out var e) ? e!.Snapshot : throw new InvalidOperationException($"Unknown resource '{resource.Name}'.");

    /// <summary>Writes an orchestrator message into the resource's console log.</summary>
    public void Log(IResource resource, string message) => Logs.Write(resource.Name, $"[homeiq] {message}");
}
