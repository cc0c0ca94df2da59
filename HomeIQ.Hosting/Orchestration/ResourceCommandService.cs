namespace HomeIQ.Hosting;

/// <summary>The commands every process-backed resource supports, named as in Aspire.</summary>
public static class KnownResourceCommands
{
    /// <summary>Starts a stopped resource.</summary>
    public const string Start = "resource-start";

    /// <summary>Stops a running resource; it ends Exited and is not restarted.</summary>
    public const string Stop = "resource-stop";

    /// <summary>Stops and starts a resource.</summary>
    public const string Restart = "resource-restart";
}

/// <summary>The outcome of a command.</summary>
public sealed record ExecuteCommandResult(bool Success, string? ErrorMessage = null);

/// <summary>Runs commands (start, stop, restart) on resources, as the dashboard's buttons do.</summary>
public sealed class ResourceCommandService
{
    private readonly Orchestration.ApplicationOrchestrator _orchestrator;

    internal ResourceCommandService(Orchestration.ApplicationOrchestrator orchestrator) => _orchestrator = orchestrator;

    /// <summary>Runs <paramref name="commandName"/> (see <see cref="KnownResourceCommands"/>) on a resource.</summary>
    public Task<ExecuteCommandResult> ExecuteCommandAsync(string resourceName, string commandName, CancellationToken cancellationToken = default) =>
        _orchestrator.ExecuteCommandAsync(resourceName, commandName, cancellationToken);
}
