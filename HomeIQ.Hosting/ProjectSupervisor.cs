using System.Collections.Concurrent;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Eventing;
using Aspire.Hosting.Lifecycle;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace HomeIQ.Hosting;

/// <summary>
/// Two things Aspire leaves to the AppHost, for projects:
/// <list type="bullet">
/// <item>A project whose process ended without anyone asking (a crash, a kill -9) is started again after 1 s, then 2, 4 … up to 30 s
/// while it keeps crashing. A start that fails (DCP can be slow to let go of the ended process) is tried again on the same back-off,
/// until the project runs. A stop from the dashboard or a command is respected.</item>
/// <item>Stopping is graceful and quick: DCP runs a project as <c>dotnet run</c>, which does not pass DCP's stop signal on to the
/// service, so the service would be killed seconds later without shutting down. The service gets SIGTERM first.</item>
/// </list>
/// </summary>
internal sealed class ProjectSupervisor(
    ResourceNotificationService notifications,
    IHostApplicationLifetime lifetime,
    IServiceProvider services,
    ILogger<ProjectSupervisor> logger) : IDistributedApplicationEventingSubscriber, IAsyncDisposable
{
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan StableAfter = TimeSpan.FromMinutes(1);
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<string, bool> _stopRequested = new();
    private readonly ConcurrentDictionary<string, (int Crashes, DateTime LastStart)> _history = new();
    private readonly ConcurrentDictionary<string, string?> _lastState = new();
    private readonly ConcurrentDictionary<ResourceCommandAnnotation, bool> _wrapped = new();
    private readonly ConcurrentDictionary<string, bool> _restarting = new();
    private Task _watch = Task.CompletedTask;

    public Task SubscribeAsync(IDistributedApplicationEventing eventing, DistributedApplicationExecutionContext executionContext, CancellationToken cancellationToken)
    {
        if (!executionContext.IsRunMode)
        {
            return Task.CompletedTask;
        }
        // The lifecycle commands exist once DCP has prepared the resource, which is before it first starts.
        eventing.Subscribe<BeforeResourceStartedEvent>((e, _) =>
        {
            if (e.Resource is ProjectResource project)
            {
                WrapCommands(project);
            }
            return Task.CompletedTask;
        });
        _watch = Task.Run(() => WatchAsync(_stopping.Token), CancellationToken.None);
        // On Ctrl+C every service shuts down gracefully, in parallel, while DCP stops the rest.
        lifetime.ApplicationStopping.Register(() =>
        {
            foreach (var id in _lastState.Where(s => s.Value == KnownResourceStates.Running).Select(s => s.Key))
            {
                if (RunnerPid(id) is { } pid)
                {
                    TerminateChildren(pid);
                }
            }
        });
        return Task.CompletedTask;
    }

    /// <summary>The <c>dotnet run</c> process DCP started for one project instance.</summary>
    private int? RunnerPid(string resourceId) =>
        notifications.TryGetCurrentState(resourceId, out var e)
        && e.Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value is int pid && pid > 0 ? pid : null;

    /// <summary>Sends SIGTERM to the service process, the child of <c>dotnet run</c>.</summary>
    private static void TerminateChildren(int runner)
    {
        foreach (var child in ServiceProcesses.ChildrenOf(runner))
        {
            _ = ServiceProcesses.Terminate(child);
        }
    }

    /// <summary>Remembers which instances someone stopped on purpose, and forgets it when they are started again.</summary>
    private void WrapCommands(ProjectResource project)
    {
        foreach (var command in project.Annotations.OfType<ResourceCommandAnnotation>().Where(c => !_wrapped.ContainsKey(c)).ToList())
        {
            bool? stopped = command.Name == KnownResourceCommands.StopCommand ? true
                : command.Name == KnownResourceCommands.StartCommand || command.Name == KnownResourceCommands.RestartCommand ? false
                : null;
            if (stopped is not { } value)
            {
                continue;
            }
            project.Annotations.Remove(command);
            var wrapped = new ResourceCommandAnnotation(command.Name, command.DisplayName, command.UpdateState, async context =>
            {
                _stopRequested[context.ResourceName] = value;
                if (command.Name == KnownResourceCommands.StartCommand)
                {
                    return await command.ExecuteCommand(context).ConfigureAwait(false);
                }
                // DCP must see the process alive when it stops it (it fails to stop one that already exited), so the service
                // gets its SIGTERM a moment after DCP's own signal, which `dotnet run` ignores.
                var runner = RunnerPid(context.ResourceName);
                var stop = command.ExecuteCommand(context);
                await Task.WhenAny(stop, Task.Delay(TimeSpan.FromSeconds(1))).ConfigureAwait(false);
                if (runner is { } pid)
                {
                    TerminateChildren(pid);
                }
                return await stop.ConfigureAwait(false);
            }, command.DisplayDescription, command.Arguments, command.ConfirmationMessage, command.IconName, command.IconVariant, command.IsHighlighted,
                command.Visibility, command.ValidateArguments);
            _wrapped[wrapped] = true;
            project.Annotations.Add(wrapped);
        }
    }

    private async Task WatchAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var e in notifications.WatchAsync(cancellationToken).ConfigureAwait(false))
            {
                if (e.Resource is not ProjectResource)
                {
                    continue;
                }
                var state = e.Snapshot.State?.Text;
                var previous = _lastState.GetValueOrDefault(e.ResourceId);
                _lastState[e.ResourceId] = state;
                if (state == KnownResourceStates.Running && previous != KnownResourceStates.Running)
                {
                    var (crashes, lastStart) = _history.GetValueOrDefault(e.ResourceId);
                    _history[e.ResourceId] = (DateTime.UtcNow - lastStart > StableAfter ? 0 : crashes, DateTime.UtcNow);
                }
                // Ended after running, or a start that failed; a project that never ran is left as it is.
                if (IsEnded(state) && (previous == KnownResourceStates.Running || previous == KnownResourceStates.Starting) && _history.ContainsKey(e.ResourceId))
                {
                    ScheduleRestart(e.ResourceId, e.Snapshot, cancellationToken);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private static bool IsEnded(string? state) =>
        state == KnownResourceStates.Exited || state == KnownResourceStates.Finished || state == KnownResourceStates.FailedToStart;

    private bool ShouldRun(string resourceId) =>
        !_stopRequested.GetValueOrDefault(resourceId) && !lifetime.ApplicationStopping.IsCancellationRequested;

    /// <summary>Starts the ended instance after its back-off, unless a restart of it is under way.</summary>
    private void ScheduleRestart(string resourceId, CustomResourceSnapshot ended, CancellationToken cancellationToken)
    {
        if (ShouldRun(resourceId) && _restarting.TryAdd(resourceId, true))
        {
            _ = RestartAsync(resourceId, ended, cancellationToken);
        }
    }

    /// <summary>Starts an ended instance after its back-off, again and again while the start itself fails.</summary>
    private async Task RestartAsync(string resourceId, CustomResourceSnapshot ended, CancellationToken cancellationToken)
    {
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                var (crashes, lastStart) = _history.GetValueOrDefault(resourceId);
                _history[resourceId] = (crashes + 1, lastStart);
                var delay = TimeSpan.FromSeconds(Math.Min(MaxDelay.TotalSeconds, Math.Pow(2, crashes)));
                if (attempt == 1)
                {
                    logger.LogWarning("'{Resource}' ended unexpectedly ({State}, exit code {ExitCode}); starting it again in {Delay} s.",
                        resourceId, ended.State?.Text, ended.ExitCode, delay.TotalSeconds);
                }
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                if (!ShouldRun(resourceId) || notifications.TryGetCurrentState(resourceId, out var current) && current.Snapshot.State?.Text is { } now
                    && (now == KnownResourceStates.Running || now == KnownResourceStates.Starting || now == KnownResourceStates.Waiting))
                {
                    return; // stopped on purpose, or being started by someone else
                }
                var result = await services.GetRequiredService<ResourceCommandService>()
                    .ExecuteCommandAsync(resourceId, KnownResourceCommands.StartCommand, cancellationToken).ConfigureAwait(false);
                if (result.Success)
                {
                    return;
                }
                logger.LogError("Starting '{Resource}' again failed (attempt {Attempt}): {Error}; trying again.", resourceId, attempt, result.Message);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Starting '{Resource}' again failed.", resourceId);
        }
        finally
        {
            _restarting.TryRemove(resourceId, out _);
        }
        // A start can succeed and still end at once (Aspire reports a failure to apply the environment as FailedToStart, not as an
        // error), while this restart was under way and the watcher left it to it.
        if (!cancellationToken.IsCancellationRequested && notifications.TryGetCurrentState(resourceId, out var after) && IsEnded(after.Snapshot.State?.Text))
        {
            ScheduleRestart(resourceId, after.Snapshot, cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _watch.ConfigureAwait(false);
        _stopping.Dispose();
    }
}
