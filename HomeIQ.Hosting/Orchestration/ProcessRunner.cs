using System.Collections.Immutable;
using HomeIQ.Hosting.ApplicationModel;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace HomeIQ.Hosting.Orchestration;

/// <summary>
/// Runs a project or executable as one process per replica. A replica that crashes (non-zero exit) is restarted
/// with exponential backoff (1 s doubling to 30 s); after <see cref="MaxConsecutiveCrashes"/> quick crashes in a row it is left Exited.
/// A replica that exits with code 0 is Finished. A resource awaited with WaitForCompletion is never restarted.
/// </summary>
internal sealed class ProcessRunner(IResource resource, OrchestratorContext context, bool restartOnCrash) : IResourceRunner
{
    public const int MaxConsecutiveCrashes = 10;
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan StableUptime = TimeSpan.FromSeconds(30);
    private readonly Lock _gate = new();
    private Replica[] _replicas = [];
    private ProcessSpec? _template;
    private int _restarts;

    public IResource Resource => resource;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _template ??= await ProjectLauncher.CreateSpecAsync(resource, context, cancellationToken).ConfigureAwait(false);
        var count = resource.Annotations.Last<ReplicaAnnotation>()?.Replicas ?? 1;
        await context.PublishAsync(resource, s => s with
        {
            State = KnownResourceStates.Starting, StartTimeStamp = DateTimeOffset.UtcNow, HealthStatus = null, StateReason = null, ExitCode = null,
            Urls = [.. resource.Annotations.All<EndpointAnnotation>().SelectMany(e => e.AllocatedEndpoints.Select(a => a.Url))],
        }).ConfigureAwait(false);
        lock (_gate)
        {
            _replicas = [.. Enumerable.Range(0, count).Select(i => new Replica(i, count == 1 ? resource.Name : $"{resource.Name}-{i}-{Guid.NewGuid().ToString("N")[..6]}"))];
        }
        foreach (var replica in _replicas)
        {
            await LaunchAsync(replica, cancellationToken).ConfigureAwait(false);
        }
        await PublishAggregateAsync().ConfigureAwait(false);
    }

    public async Task StopAsync()
    {
        Replica[] replicas;
        lock (_gate)
        {
            replicas = _replicas;
            foreach (var r in replicas)
            {
                r.StopRequested = true;
            }
        }
        await context.PublishAsync(resource, s => s with { State = KnownResourceStates.Stopping }).ConfigureAwait(false);
        await Task.WhenAll(replicas.Select(async r =>
        {
            if (r.Process is { } p)
            {
                await p.StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
                context.Session.Remove(p.Pid);
            }
        })).ConfigureAwait(false);
        await context.PublishAsync(resource, s => s with
        {
            State = KnownResourceStates.Exited, StopTimeStamp = DateTimeOffset.UtcNow, ProcessIds = [], HealthStatus = null,
        }).ConfigureAwait(false);
    }

    private async Task LaunchAsync(Replica replica, CancellationToken cancellationToken)
    {
        var env = await ResourceEnvironment.BuildAsync(resource, replica.Index, replica.InstanceId, context, cancellationToken).ConfigureAwait(false);
        var spec = _template! with { Environment = env };
        var process = ManagedProcess.Start(spec, (line, isError) => context.Logs.Write(resource.Name, line, isError));
        context.Session.Add(process.Pid);
        bool abandoned;
        lock (_gate)
        {
            // A stop that ran while this process was being launched did not see it: stop it here instead of leaving it behind.
            replica.Process = process;
            abandoned = replica.StopRequested || context.Stopping.IsCancellationRequested;
        }
        if (abandoned)
        {
            await process.StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            context.Session.Remove(process.Pid);
            throw new OperationCanceledException("The resource was stopped while it was starting.");
        }
        replica.StartedAt = DateTimeOffset.UtcNow;
        replica.State = KnownResourceStates.Running;
        if (replica.Index == 0)
        {
            await context.PublishAsync(resource, s => s with
            {
                EnvironmentVariables = env.ToImmutableDictionary(kv => kv.Key, kv => ResourceEnvironment.IsSecret(kv.Key) ? "***" : kv.Value),
            }).ConfigureAwait(false);
        }
        _ = SuperviseAsync(replica, process);
    }

    private async Task SuperviseAsync(Replica replica, ManagedProcess process)
    {
        var code = await process.Exited.ConfigureAwait(false);
        context.Session.Remove(process.Pid);
        await process.DisposeAsync().ConfigureAwait(false);
        if (replica.StopRequested || context.Stopping.IsCancellationRequested)
        {
            return;
        }
        replica.ExitCode = code;
        var ranFor = DateTimeOffset.UtcNow - replica.StartedAt;
        replica.ConsecutiveCrashes = ranFor > StableUptime ? 1 : replica.ConsecutiveCrashes + 1;
        if (code == 0 || !restartOnCrash || replica.ConsecutiveCrashes > MaxConsecutiveCrashes)
        {
            replica.State = code == 0 ? KnownResourceStates.Finished : KnownResourceStates.Exited;
            context.Log(resource, $"{replica.InstanceId} exited with code {code}" + (code != 0 && restartOnCrash ? $" after {MaxConsecutiveCrashes} quick crashes in a row; not restarting" : ""));
            await PublishAggregateAsync().ConfigureAwait(false);
            return;
        }
        var delay = TimeSpan.FromSeconds(Math.Min(MaxBackoff.TotalSeconds, Math.Pow(2, replica.ConsecutiveCrashes - 1)));
        replica.State = KnownResourceStates.Starting;
        Interlocked.Increment(ref _restarts);
        context.Log(resource, $"{replica.InstanceId} exited with code {code}; restarting in {delay.TotalSeconds:F0}s");
        await PublishAggregateAsync($"restarting after exit code {code}").ConfigureAwait(false);
        try
        {
            await Task.Delay(delay, context.Stopping).ConfigureAwait(false);
            if (!replica.StopRequested)
            {
                await LaunchAsync(replica, context.Stopping).ConfigureAwait(false);
                await PublishAggregateAsync().ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex)
        {
            replica.State = KnownResourceStates.FailedToStart;
            context.Log(resource, $"restart failed: {ex.Message}");
            await PublishAggregateAsync(ex.Message).ConfigureAwait(false);
        }
    }

    /// <summary>One state for all replicas: Running when all run, terminal when all are, otherwise Starting.</summary>
    private Task PublishAggregateAsync(string? reason = null)
    {
        var states = _replicas.Select(r => r.State).ToList();
        var state = states.All(s => s == KnownResourceStates.Running) ? KnownResourceStates.Running
            : states.All(s => s == KnownResourceStates.Finished) ? KnownResourceStates.Finished
            : states.All(s => KnownResourceStates.TerminalStates.Contains(s)) ? (states.Contains(KnownResourceStates.FailedToStart) ? KnownResourceStates.FailedToStart : KnownResourceStates.Exited)
            : KnownResourceStates.Starting;
        var exitCode = _replicas.Select(r => r.ExitCode).LastOrDefault(c => c is not null);
        return context.PublishAsync(resource, s => s with
        {
            State = state,
            ExitCode = exitCode,
            RestartCount = _restarts,
            StateReason = reason ?? (state == KnownResourceStates.Running ? null : s.StateReason ?? (exitCode is { } c ? $"exited with code {c}" : null)),
            HealthStatus = state == KnownResourceStates.Running ? s.HealthStatus : (KnownResourceStates.TerminalStates.Contains(state) ? HealthStatus.Unhealthy : null),
            ProcessIds = [.. _replicas.Where(r => r.Process is { HasExited: false }).Select(r => r.Process!.Pid)],
            StopTimeStamp = KnownResourceStates.TerminalStates.Contains(state) ? DateTimeOffset.UtcNow : null,
        });
    }

    private sealed class Replica(int index, string instanceId)
    {
        public int Index { get; } = index;
        public string InstanceId { get; } = instanceId;
        public ManagedProcess? Process { get; set; }
        public string State { get; set; } = KnownResourceStates.Starting;
        public int? ExitCode { get; set; }
        public DateTimeOffset StartedAt { get; set; }
        public int ConsecutiveCrashes { get; set; }
        public bool StopRequested { get; set; }
    }
}
