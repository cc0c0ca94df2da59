using System.Diagnostics;
using System.Security.Cryptography;
using HomeIQ.Hosting.ApplicationModel;
using HomeIQ.Hosting.Servers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace HomeIQ.Hosting.Orchestration;

/// <summary>
/// The local orchestrator: resolves parameters, allocates ports, starts every resource once what it waits for is ready,
/// runs health checks, and on stop shuts projects down before the servers they use.
/// </summary>
internal sealed class ApplicationOrchestrator(
    IReadOnlyList<IResource> resources,
    DistributedApplicationOptions options,
    IConfiguration configuration,
    AppHostPaths paths,
    SecretStore secrets,
    ResourceNotificationService notifications,
    ResourceLoggerService logs,
    DistributedApplicationExecutionContext executionContext,
    ILogger logger,
    Dashboard.DashboardInfo? dashboard) : IHostedService
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly Dictionary<IResource, IResourceRunner> _runners = [];
    private readonly List<Task> _tasks = [];
    private readonly SemaphoreSlim _commands = new(1, 1);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _monitored = new(StringComparer.OrdinalIgnoreCase);
    private OrchestratorContext? _context;
    private Stopwatch? _clock;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (executionContext.IsPublishMode)
        {
            return Task.CompletedTask;
        }
        _clock = Stopwatch.StartNew();
        var swept = SessionRecord.SweepStale(paths.SessionsRoot, m => logger.LogWarning("{Message}", m));
        if (swept > 0)
        {
            logger.LogInformation("Removed {Count} session directories left by AppHosts that did not shut down", swept);
        }
        paths.EnsureTree(paths.SessionDirectory);
        var session = new SessionRecord(paths.SessionDirectory);
        session.Add(Environment.ProcessId);
        _context = new OrchestratorContext
        {
            Options = options, Configuration = configuration, Paths = paths, Ports = new PortAllocator(), Notifications = notifications,
            Logs = logs, ExecutionContext = executionContext, Logger = logger, Session = session, Stopping = _stopping.Token,
            OtlpEndpoint = dashboard?.OtlpEndpoint?.ToString().TrimEnd('/'),
            OtlpApiKey = dashboard?.OtlpApiKey,
        };

        ResolveParameters();
        foreach (var resource in resources)
        {
            if (CreateRunner(resource) is { } runner)
            {
                _runners[resource] = runner;
            }
        }
        AllocateEndpoints();
        foreach (var resource in resources)
        {
            _tasks.Add(Task.Run(() => RunResourceAsync(resource)));
        }
        _tasks.Add(Task.Run(() => ReportWhenAllHealthyAsync()));
        logger.LogInformation("Starting {Count} resources; data in {Directory}", resources.Count, paths.AppHostRoot);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_context is null || _stopping.IsCancellationRequested)
        {
            return;
        }
        logger.LogInformation("Stopping all resources");
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _commands.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            // Projects first, then the servers they use, so nothing logs errors about a vanished database during shutdown.
            var processes = _runners.Values.Where(r => r is ProcessRunner).ToList();
            var stopped = await Task.WhenAll(processes.Select(StopQuietlyAsync)).ConfigureAwait(false);
            stopped = [.. stopped, .. await Task.WhenAll(_runners.Values.Except(processes).Select(StopQuietlyAsync)).ConfigureAwait(false)];
            await Task.WhenAny(Task.WhenAll(_tasks), Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None)).ConfigureAwait(false);
            if (stopped.Contains(false))
            {
                // Its session record still names the processes that did not stop: the next AppHost's sweep finds them.
                logger.LogWarning("Some resources did not stop; {Directory} is kept so the next start can clean up", paths.SessionDirectory);
                return;
            }
            try
            {
                Directory.Delete(paths.SessionDirectory, recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                logger.LogWarning("Could not remove the session directory {Directory}: {Message}", paths.SessionDirectory, ex.Message);
            }
            logger.LogInformation("Stopped");
        }
        finally
        {
            _commands.Release();
        }
    }

    /// <summary>
    /// Start, stop or restart one resource (dashboard commands), one command at a time. A resource that has not finished
    /// starting (waiting for dependencies, starting) refuses commands, so a command never races the start-up path.
    /// The start runs on the application's lifetime, not the caller's: a closed browser tab does not abandon it halfway.
    /// </summary>
    public async Task<ExecuteCommandResult> ExecuteCommandAsync(string resourceName, string command, CancellationToken cancellationToken)
    {
        var runner = _runners.Values.FirstOrDefault(r => string.Equals(r.Resource.Name, resourceName, StringComparison.OrdinalIgnoreCase));
        if (_context is null || runner is null)
        {
            return new ExecuteCommandResult(false, $"'{resourceName}' is not a resource with a process that can be started or stopped.");
        }
        if (command is not (KnownResourceCommands.Start or KnownResourceCommands.Stop or KnownResourceCommands.Restart))
        {
            return new ExecuteCommandResult(false, $"Unknown command '{command}'. Known: {KnownResourceCommands.Start}, {KnownResourceCommands.Stop}, {KnownResourceCommands.Restart}.");
        }
        await _commands.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var state = _context.Current(runner.Resource).State;
            if (state is KnownResourceStates.NotStarted or KnownResourceStates.Waiting or KnownResourceStates.Starting or KnownResourceStates.Stopping)
            {
                return new ExecuteCommandResult(false, $"'{runner.Resource.Name}' is {state}; try again once it has started.");
            }
            var running = state is not (KnownResourceStates.Exited or KnownResourceStates.Finished or KnownResourceStates.FailedToStart);
            if ((command == KnownResourceCommands.Stop && !running) || (command == KnownResourceCommands.Start && running))
            {
                return new ExecuteCommandResult(false, $"'{runner.Resource.Name}' is {state}; '{command}' does not apply.");
            }
            _context.Log(runner.Resource, $"{command} requested");
            if (running)
            {
                await runner.StopAsync().ConfigureAwait(false);
            }
            if (command != KnownResourceCommands.Stop)
            {
                await runner.StartAsync(_stopping.Token).ConfigureAwait(false);
                EnsureHealthMonitor(runner.Resource);
            }
            return new ExecuteCommandResult(true);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            await _context.PublishAsync(runner.Resource, s => s with { State = KnownResourceStates.FailedToStart, StateReason = ex.Message }).ConfigureAwait(false);
            return new ExecuteCommandResult(false, ex.Message);
        }
        finally
        {
            _commands.Release();
        }
    }

    /// <summary>Starts the health monitor of a resource unless one runs already (a resource that failed at start-up has none).</summary>
    private void EnsureHealthMonitor(IResource resource)
    {
        if (_monitored.TryAdd(resource.Name, 0))
        {
            _tasks.Add(Task.Run(() => HealthMonitor.RunAsync(resource, _context!)));
        }
    }

    private async Task<bool> StopQuietlyAsync(IResourceRunner runner)
    {
        try
        {
            await runner.StopAsync().ConfigureAwait(false);
            return true;
        }
        catch (Exception ex)
        {
            logger.LogWarning("Stopping {Resource} failed: {Message}", runner.Resource.Name, ex.Message);
            return false;
        }
    }

    private IResourceRunner? CreateRunner(IResource resource) => resource switch
    {
        ServerResource server => new ServerRunner(server, server.Annotations.Last<LocalServerAnnotation>()?.Server
            ?? throw new DistributedApplicationException($"Server resource '{server.Name}' has no local server to run."), _context!),
        ProjectResource or ExecutableResource => new ProcessRunner(resource, _context!,
            restartOnCrash: !resources.Any(r => r.Annotations.All<WaitAnnotation>().Any(w => w.Resource == resource && w.WaitType == WaitType.WaitForCompletion))),
        _ => null,
    };

    private void ResolveParameters()
    {
        foreach (var parameter in resources.OfType<ParameterResource>())
        {
            if (configuration[parameter.ConfigurationKey] is { } configured)
            {
                parameter.Value = configured;
            }
            else if (parameter.Default is { } rules)
            {
                parameter.Value = secrets.GetOrCreate(parameter.ConfigurationKey, () => PasswordGenerator.Generate(rules));
            }
            else
            {
                throw new DistributedApplicationException(
                    $"Parameter resource '{parameter.Name}' has no value. Set '{parameter.ConfigurationKey}' in the AppHost's appsettings.json or user secrets, " +
                    $"or the environment variable {parameter.ConfigurationKey.Replace(":", "__", StringComparison.Ordinal)}.");
            }
        }
    }

    private void AllocateEndpoints()
    {
        foreach (var resource in resources)
        {
            var replicas = resource.Annotations.Last<ReplicaAnnotation>()?.Replicas ?? 1;
            var preferred = _runners.GetValueOrDefault(resource) is ServerRunner server ? server.PreferredPort() : null;
            foreach (var endpoint in resource.Annotations.All<EndpointAnnotation>())
            {
                endpoint.AllocatedEndpoints.Clear();
                for (var i = 0; i < replicas; i++)
                {
                    int port;
                    if (endpoint.Port is { } fixedPort && !options.IsTesting && replicas == 1)
                    {
                        _context!.Ports.Reserve(fixedPort, resource.Name);
                        port = fixedPort;
                    }
                    else if (preferred is { } p && (p.StillRunning ? _context!.Ports.Claim(p.Port) : _context!.Ports.TryReserve(p.Port)))
                    {
                        port = p.Port;
                    }
                    else
                    {
                        port = _context!.Ports.Allocate();
                    }
                    var host = resource is ServerResource ? "127.0.0.1" : "localhost";
                    endpoint.AllocatedEndpoints.Add(new AllocatedEndpoint(endpoint.UriScheme, host, port));
                }
            }
        }
    }

    private async Task RunResourceAsync(IResource resource)
    {
        var context = _context!;
        try
        {
            await context.PublishAsync(resource, s => s with { State = KnownResourceStates.Waiting }).ConfigureAwait(false);
            await WaitForDependenciesAsync(resource, context.Stopping).ConfigureAwait(false);
            if (_runners.TryGetValue(resource, out var runner))
            {
                await runner.StartAsync(context.Stopping).ConfigureAwait(false);
            }
            else
            {
                // Parameters, connection strings and databases have no process: they run once their parent does.
                await context.PublishAsync(resource, s => s with { State = KnownResourceStates.Running, StartTimeStamp = DateTimeOffset.UtcNow }).ConfigureAwait(false);
            }
            if (_monitored.TryAdd(resource.Name, 0))
            {
                await HealthMonitor.RunAsync(resource, context).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (context.Stopping.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            var reason = ex is MissingServerBinaryException or DistributedApplicationException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}";
            logger.LogError("Resource {Resource} failed to start: {Reason}", resource.Name, reason);
            context.Log(resource, $"failed to start: {reason}");
            await context.PublishAsync(resource, s => s with
            {
                State = KnownResourceStates.FailedToStart, StateReason = reason, HealthStatus = HealthStatus.Unhealthy, StopTimeStamp = DateTimeOffset.UtcNow,
            }).ConfigureAwait(false);
        }
    }

    private async Task WaitForDependenciesAsync(IResource resource, CancellationToken cancellationToken)
    {
        var waits = resource.Annotations.All<WaitAnnotation>().ToList();
        if (resource is IResourceWithParent child && waits.All(w => w.Resource != child.Parent))
        {
            waits.Add(new WaitAnnotation(child.Parent, WaitType.WaitUntilHealthy));
        }
        foreach (var wait in waits)
        {
            _context!.Log(resource, $"waiting for {wait.Resource.Name}" + (wait.WaitType == WaitType.WaitForCompletion ? " to complete" : " to be healthy"));
            var e = await notifications.WaitForResourceAsync(wait.Resource.Name, e => wait.WaitType == WaitType.WaitForCompletion
                ? e.Snapshot.IsTerminal
                : ResourceNotificationService.IsHealthy(e.Snapshot) || e.Snapshot.IsTerminal, cancellationToken).ConfigureAwait(false);
            var s = e.Snapshot;
            if (wait.WaitType == WaitType.WaitForCompletion && (s.State == KnownResourceStates.FailedToStart || s.ExitCode != wait.ExitCode))
            {
                throw new DistributedApplicationException(
                    $"'{wait.Resource.Name}' was expected to complete with exit code {wait.ExitCode} but is {s.State} (exit code {s.ExitCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}).");
            }
            if (wait.WaitType == WaitType.WaitUntilHealthy && s.IsTerminal)
            {
                throw new DistributedApplicationException($"dependency '{wait.Resource.Name}' is {s.State}: {s.StateReason ?? "no reason given"}");
            }
        }
    }

    private async Task ReportWhenAllHealthyAsync()
    {
        var pending = resources.Select(r => r.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        try
        {
            await foreach (var e in notifications.WatchAsync(_stopping.Token).ConfigureAwait(false))
            {
                if (ResourceNotificationService.IsHealthy(e.Snapshot) || e.Snapshot.State == KnownResourceStates.Finished)
                {
                    pending.Remove(e.Resource.Name);
                }
                else if (e.Snapshot.State == KnownResourceStates.FailedToStart)
                {
                    logger.LogError("Resource {Resource} failed to start; see its output above", e.Resource.Name);
                    return;
                }
                if (pending.Count == 0)
                {
                    logger.LogInformation("All {Count} resources are healthy after {Seconds:F2}s", resources.Count, _clock!.Elapsed.TotalSeconds);
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}

/// <summary>Generated secrets: at least 22 characters from the requested classes, from a cryptographic source.</summary>
internal static class PasswordGenerator
{
    public static string Generate(GenerateParameterDefault rules)
    {
        var alphabet = (rules.Lower ? "abcdefghijkmnopqrstuvwxyz" : "") + (rules.Upper ? "ABCDEFGHJKLMNPQRSTUVWXYZ" : "") + (rules.Numeric ? "23456789" : "");
        if (alphabet.Length == 0)
        {
            throw new ArgumentException("A generated parameter needs at least one character class.", nameof(rules));
        }
        return RandomNumberGenerator.GetString(alphabet, Math.Max(22, rules.MinLength));
    }
}
