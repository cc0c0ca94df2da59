using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace HomeIQ.Tests.Integration;

/// <summary>Kill -9 in the tests: one process of a resource killed, traced, and awaited until it is back.</summary>
internal static class Kills
{
    /// <summary>
    /// Kills (SIGKILL: no shutdown, no flush) the process of one instance of <paramref name="resource"/>: for a project, the service
    /// itself (the child of its <c>dotnet run</c>); for a local server, its <paramref name="process"/> resource ("postgres-server").
    /// The instance is traced (<see cref="Trace"/>) until the result is disposed.
    /// </summary>
    public static async Task<KilledInstance> KillOneAsync(this DistributedApplication app, string resource, string? process = null)
    {
        process ??= resource;
        var instance = (await app.InstancesAsync(process)).First(i => i.Pid() is not null);
        var pid = TestApps.ServiceProcess(instance.Pid() ?? throw new InvalidOperationException($"{process} has no process id"));
        var trace = app.Trace(process);
        var killedAt = DateTime.UtcNow;
        Process.GetProcessById(pid).Kill();
        return new KilledInstance(app, resource, instance, pid, killedAt, trace);
    }

    /// <summary>
    /// Until disposed, writes to the running test's output every change of state, process and health of <paramref name="resource"/>'s
    /// instances, and their console lines (which include Aspire's record of each command and its error): when a test waits in vain for
    /// a restart, its output shows where the resource stopped. Console lines from before the call are left out; at most 400 lines.
    /// </summary>
    public static IAsyncDisposable Trace(this DistributedApplication app, string resource)
    {
        var output = TestContext.Current.TestOutputHelper;
        var since = DateTime.UtcNow;
        var written = 0;
        void Write(string line)
        {
            if (Interlocked.Increment(ref written) <= 400)
            {
                try
                {
                    output?.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {resource} {line}");
                }
                catch (InvalidOperationException)
                {
                    // The test has finished.
                }
            }
        }
        var stop = new CancellationTokenSource();
        var logs = app.Services.GetRequiredService<ResourceLoggerService>();
        var watching = new HashSet<string>();
        var tasks = new List<Task>();
        tasks.Add(Task.Run(async () =>
        {
            var last = new Dictionary<string, string>();
            await foreach (var e in app.ResourceNotifications.WatchAsync(stop.Token))
            {
                if (e.Resource.Name != resource)
                {
                    continue;
                }
                var state = $"{e.Snapshot.State?.Text} pid {e.Pid()} exit {e.Snapshot.ExitCode} health {e.Snapshot.HealthStatus}";
                if (last.GetValueOrDefault(e.ResourceId) != state)
                {
                    last[e.ResourceId] = state;
                    Write($"[{e.ResourceId}] {state}");
                }
                if (watching.Add(e.ResourceId))
                {
                    var id = e.ResourceId;
                    lock (tasks)
                    {
                        tasks.Add(Task.Run(async () =>
                        {
                            await foreach (var batch in logs.WatchAsync(id).WithCancellation(stop.Token))
                            {
                                // DCP starts each line with its UTC time; the backlog before the call is not wanted.
                                foreach (var line in batch.Where(l => !DateTime.TryParse(l.Content.Split(' ', 2)[0], null,
                                    System.Globalization.DateTimeStyles.AdjustToUniversal, out var at) || at >= since))
                                {
                                    Write($"[{id}] {line.Content}");
                                }
                            }
                        }));
                    }
                }
            }
        }));
        return new Tracing(stop, () => { lock (tasks) { return [.. tasks]; } });
    }

    private sealed class Tracing(CancellationTokenSource stop, Func<Task[]> tasks) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync();
            try
            {
                await Task.WhenAll(tasks());
            }
            catch (OperationCanceledException)
            {
            }
            stop.Dispose();
        }
    }
}

/// <summary>A process <see cref="Kills.KillOneAsync"/> killed.</summary>
internal sealed class KilledInstance(DistributedApplication app, string resource, ResourceEvent instance, int pid, DateTime killedAt, IAsyncDisposable trace)
    : IAsyncDisposable
{
    public int Pid => pid;

    /// <summary>
    /// Waits until the instance runs again in a new process (projects are restarted by HomeIQ.Hosting; a server needs its start command)
    /// and every health check of the resource has passed since the kill.
    /// </summary>
    public async Task BackAsync(CancellationToken cancellationToken)
    {
        await app.ResourceNotifications.WaitForResourceAsync(instance.Resource.Name,
            e => e.ResourceId == instance.ResourceId && e.Pid() is { } p && p != instance.Pid(), cancellationToken);
        await app.WaitForHealthySinceAsync(resource, killedAt, cancellationToken);
    }

    public ValueTask DisposeAsync() => trace.DisposeAsync();
}
