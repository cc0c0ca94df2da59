using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using HomeIQ.Hosting.ApplicationModel;
using HomeIQ.Hosting.Servers;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace HomeIQ.Hosting.Orchestration;

/// <summary>
/// Runs one backing server: starts its processes, probes it until it accepts clients, and stops it.
/// A persistent server is left running on exit and adopted next run while its configuration fingerprint is unchanged.
/// </summary>
internal sealed class ServerRunner(ServerResource resource, ILocalServer server, OrchestratorContext context) : IResourceRunner
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(90);
    private readonly List<ManagedProcess> _processes = [];
    private bool _stopped;

    public IResource Resource => resource;

    // An isolated (test) run deletes its whole directory on exit, so nothing in it may outlive the run: every server is session-scoped there.
    private bool IsPersistent => resource.Annotations.Last<LifetimeAnnotation>()?.Lifetime == ContainerLifetime.Persistent && !context.Paths.IsIsolated;

    private bool IsDurable => IsPersistent || resource.Annotations.Last<DataVolumeAnnotation>() is not null;

    private string VolumeDirectory => Path.Combine(context.Paths.VolumesDirectory, resource.Annotations.Last<DataVolumeAnnotation>()?.Name ?? resource.Name);

    private string StateFile => VolumeDirectory + ".state.json";

    /// <summary>
    /// The port a persistent server used last time, so clients keep their connection strings, and whether that server is
    /// still running (then the port is its own, not a conflict).
    /// </summary>
    public (int Port, bool StillRunning)? PreferredPort() =>
        IsPersistent && ReadState() is { } s ? (s.Port, s.Processes.All(p => SessionRecord.IsSameProcess(p.Pid, p.Start))) : null;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        lock (_processes)
        {
            _stopped = false;
        }
        server.LocateBinaries(resource.Name);
        var connectionString = await resource.ConnectionStringExpression.GetValueAsync(cancellationToken).ConfigureAwait(false) ?? "";
        var port = resource.PrimaryEndpoint.Port;
        var fingerprint = Fingerprint(port);
        var started = DateTimeOffset.UtcNow;
        await context.PublishAsync(resource, s => s with { State = KnownResourceStates.Starting, StartTimeStamp = started, HealthStatus = null, StateReason = null })
            .ConfigureAwait(false);

        var serverContext = CreateServerContext(port);
        if (IsPersistent && ReadState() is { } state && state.Fingerprint == fingerprint && state.Processes.All(p => SessionRecord.IsSameProcess(p.Pid, p.Start)))
        {
            context.Log(resource, $"reusing the persistent server left running by an earlier run (pids {string.Join(", ", state.Processes.Select(p => p.Pid))})");
            lock (_processes)
            {
                _processes.AddRange(state.Processes.Select(p => ManagedProcess.Adopt(p.Pid, p.LogFile, Output)));
            }
        }
        else
        {
            if (IsPersistent && ReadState() is { } stale)
            {
                await StopRecordedAsync(stale).ConfigureAwait(false);
            }
            var specs = await server.PrepareAsync(serverContext, cancellationToken).ConfigureAwait(false);
            var recorded = new List<RecordedProcess>();
            for (var i = 0; i < specs.Count; i++)
            {
                var spec = specs[i];
                var logFile = IsPersistent ? Path.Combine(serverContext.ConfigDirectory, $"{i}-{Path.GetFileName(spec.FileName)}.log") : null;
                if (logFile is not null)
                {
                    File.WriteAllText(logFile, "");
                }
                var process = ManagedProcess.Start(spec with { LogFile = logFile, RunAsUser = spec.RunAsUser }, Output);
                bool abandoned;
                lock (_processes)
                {
                    _processes.Add(process);
                    abandoned = _stopped || cancellationToken.IsCancellationRequested;
                }
                if (abandoned)
                {
                    // A stop ran while this server was being launched: stop what was started instead of leaving it behind.
                    await StopProcessesAsync().ConfigureAwait(false);
                    throw new OperationCanceledException("The server was stopped while it was starting.");
                }
                if (!IsPersistent)
                {
                    context.Session.Add(process.Pid);
                }
                recorded.Add(new RecordedProcess(process.Pid, SessionRecord.StartTimeOf(process.Pid) ?? "", logFile));
            }
            if (IsPersistent)
            {
                File.WriteAllText(StateFile, JsonSerializer.Serialize(new ServerState(port, fingerprint, recorded)));
            }
        }
        await PublishProcessesAsync().ConfigureAwait(false);
        await WaitUntilReadyAsync(connectionString, cancellationToken).ConfigureAwait(false);
        await server.OnReadyAsync(serverContext, connectionString, cancellationToken).ConfigureAwait(false);
        context.Log(resource, $"ready on 127.0.0.1:{port} after {(DateTimeOffset.UtcNow - started).TotalSeconds:F1}s");
        await context.PublishAsync(resource, s => s with { State = KnownResourceStates.Running, HealthStatus = HealthStatus.Healthy }).ConfigureAwait(false);
        _ = WatchForExitAsync();
    }

    public async Task StopAsync()
    {
        if (IsPersistent && context.Stopping.IsCancellationRequested)
        {
            context.Log(resource, "left running (persistent); it is reused next run");
        }
        else
        {
            await context.PublishAsync(resource, s => s with { State = KnownResourceStates.Stopping }).ConfigureAwait(false);
            await StopProcessesAsync().ConfigureAwait(false);
            if (IsPersistent)
            {
                File.Delete(StateFile);
            }
        }
        ManagedProcess[] processes;
        lock (_processes)
        {
            processes = [.. _processes];
            _processes.Clear();
        }
        foreach (var process in processes)
        {
            await process.DisposeAsync().ConfigureAwait(false);
        }
        await context.PublishAsync(resource, s => s with { State = KnownResourceStates.Exited, StopTimeStamp = DateTimeOffset.UtcNow, ProcessIds = [] })
            .ConfigureAwait(false);
    }

    private ManagedProcess[] Processes()
    {
        lock (_processes)
        {
            return [.. _processes];
        }
    }

    /// <summary>Stops the processes in reverse start order (RabbitMQ before its epmd); later launches see the flag and stop themselves.</summary>
    private async Task StopProcessesAsync()
    {
        ManagedProcess[] processes;
        lock (_processes)
        {
            _stopped = true;
            processes = [.. _processes];
        }
        foreach (var process in processes.Reverse())
        {
            await process.StopAsync(TimeSpan.FromSeconds(10), server.StopSignal).ConfigureAwait(false);
            context.Session.Remove(process.Pid);
        }
    }

    private ServerContext CreateServerContext(int port)
    {
        var runAs = Environment.UserName == "root" ? server.RootRunAsUser : null;
        var dataDirectory = IsDurable ? VolumeDirectory : Path.Combine(context.Paths.SessionDirectory, resource.Name, "data");
        var configDirectory = IsPersistent ? VolumeDirectory + ".config" : Path.Combine(context.Paths.SessionDirectory, resource.Name, "config");
        context.Paths.EnsureTree(Path.GetDirectoryName(dataDirectory)!);
        context.Paths.EnsureTree(configDirectory);
        return new ServerContext
        {
            Resource = resource,
            DataDirectory = dataDirectory,
            ConfigDirectory = configDirectory,
            Port = port,
            Password = resource.PasswordParameter.Value,
            Durable = IsDurable,
            AllocatePort = context.Ports.Allocate,
            Log = m => context.Log(resource, m),
            RunAsUser = runAs,
        };
    }

    private async Task WaitUntilReadyAsync(string connectionString, CancellationToken cancellationToken)
    {
        var deadline = DateTimeOffset.UtcNow + ReadyTimeout;
        Exception? last = null;
        while (DateTimeOffset.UtcNow < deadline)
        {
            if (Processes().FirstOrDefault(p => p.HasExited) is { } dead)
            {
                throw new DistributedApplicationException(
                    $"The {ResourceTypes.Of(resource)} server '{resource.Name}' exited with code {await dead.Exited.ConfigureAwait(false)} while starting; its output is above.");
            }
            try
            {
                await server.ProbeAsync(connectionString, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                last = ex;
            }
            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
        throw new DistributedApplicationException($"'{resource.Name}' did not accept connections within {ReadyTimeout.TotalSeconds:F0}s: {last?.Message}", last);
    }

    private async Task WatchForExitAsync()
    {
        var processes = Processes();
        if (processes.Length == 0)
        {
            return;
        }
        var exited = await Task.WhenAny(processes.Select(p => p.Exited)).ConfigureAwait(false);
        var code = await exited.ConfigureAwait(false);
        if (context.Stopping.IsCancellationRequested || context.Current(resource).State is KnownResourceStates.Stopping or KnownResourceStates.Exited)
        {
            return;
        }
        // A server is all of its processes (RabbitMQ needs its epmd): stop what is left, so a start begins from nothing.
        context.Log(resource, $"server process exited unexpectedly with code {code}; stopping the rest of it");
        await StopProcessesAsync().ConfigureAwait(false);
        lock (_processes)
        {
            _processes.Clear();
        }
        foreach (var process in processes)
        {
            await process.DisposeAsync().ConfigureAwait(false);
        }
        await context.PublishAsync(resource, s => s with
        {
            State = KnownResourceStates.Exited, ExitCode = code, HealthStatus = HealthStatus.Unhealthy, ProcessIds = [],
            StateReason = $"the server process exited with code {code}", StopTimeStamp = DateTimeOffset.UtcNow,
        }).ConfigureAwait(false);
    }

    private Task PublishProcessesAsync() => context.PublishAsync(resource, s => s with
    {
        ProcessIds = [.. Processes().Select(p => p.Pid)],
        Urls = [$"tcp://127.0.0.1:{resource.PrimaryEndpoint.Port}"],
    });

    private void Output(string line, bool isError) => context.Logs.Write(resource.Name, line, isError);

    private string Fingerprint(int port)
    {
        var text = string.Join('\n', ResourceTypes.Of(resource), resource.Name, port, resource.PasswordParameter.Value, IsDurable, VolumeDirectory);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }

    private ServerState? ReadState()
    {
        try
        {
            return File.Exists(StateFile) ? JsonSerializer.Deserialize<ServerState>(File.ReadAllText(StateFile)) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private async Task StopRecordedAsync(ServerState state)
    {
        foreach (var p in Enumerable.Reverse(state.Processes).Where(p => SessionRecord.IsSameProcess(p.Pid, p.Start)))
        {
            context.Log(resource, $"configuration changed: stopping the persistent server process {p.Pid} from an earlier run");
            await using var adopted = ManagedProcess.Adopt(p.Pid, null, Output);
            await adopted.StopAsync(TimeSpan.FromSeconds(10), server.StopSignal).ConfigureAwait(false);
        }
        File.Delete(StateFile);
    }

    private sealed record RecordedProcess(int Pid, string Start, string? LogFile);

    private sealed record ServerState(int Port, string Fingerprint, List<RecordedProcess> Processes);
}
