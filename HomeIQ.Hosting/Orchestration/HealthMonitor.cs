using HomeIQ.Hosting.ApplicationModel;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace HomeIQ.Hosting.Orchestration;

/// <summary>
/// Runs a resource's health checks while it is Running: a healthy resource is re-checked every 30 s; an unhealthy one
/// after 1 s, backing off to 5 s. In the first 10 s after a (re)start it is probed every 250 ms so WaitFor is not held back.
/// A resource without checks is Healthy whenever it is Running.
/// </summary>
internal static class HealthMonitor
{
    private static readonly TimeSpan HealthyInterval = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan StartupWindow = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan StartupInterval = TimeSpan.FromMilliseconds(250);
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    public static async Task RunAsync(IResource resource, OrchestratorContext context)
    {
        var checks = Checks(resource);
        var stopping = context.Stopping;
        DateTimeOffset? runningSince = null;
        var failures = 0;
        await foreach (var tick in Ticks(resource, context, stopping).ConfigureAwait(false))
        {
            var snapshot = tick.Snapshot;
            if (snapshot.State != KnownResourceStates.Running)
            {
                runningSince = null;
                continue;
            }
            runningSince ??= DateTimeOffset.UtcNow;
            var status = checks.Count == 0 ? HealthStatus.Healthy : await CheckAsync(checks, stopping).ConfigureAwait(false);
            failures = status == HealthStatus.Healthy ? 0 : failures + 1;
            if (snapshot.HealthStatus != status && context.Current(resource).State == KnownResourceStates.Running)
            {
                await context.PublishAsync(resource, s => s with { HealthStatus = status }).ConfigureAwait(false);
            }
            tick.NextDelay = status == HealthStatus.Healthy ? HealthyInterval
                : DateTimeOffset.UtcNow - runningSince < StartupWindow ? StartupInterval
                : TimeSpan.FromSeconds(Math.Min(5, failures));
        }
    }

    /// <summary>Yields whenever the resource's state changes or its next check is due, until the application stops.</summary>
    private static async IAsyncEnumerable<Tick> Ticks(IResource resource, OrchestratorContext context,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken stopping)
    {
        using var changed = new SemaphoreSlim(0);
        using var watching = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        _ = WakeOnStateChangeAsync(resource, context, changed, watching.Token);
        var tick = new Tick();
        while (!stopping.IsCancellationRequested)
        {
            // Terminal states keep the loop waiting (cheaply) for a state change: a dashboard Start brings the resource back.
            tick.Snapshot = context.Current(resource);
            tick.NextDelay = HealthyInterval;
            yield return tick;
            try
            {
                await changed.WaitAsync(tick.NextDelay, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        await watching.CancelAsync().ConfigureAwait(false);
    }

    private static async Task WakeOnStateChangeAsync(IResource resource, OrchestratorContext context, SemaphoreSlim changed, CancellationToken cancellationToken)
    {
        var lastState = "";
        try
        {
            await foreach (var e in context.Notifications.WatchAsync(cancellationToken).ConfigureAwait(false))
            {
                if (e.Resource == resource && e.Snapshot.State != lastState)
                {
                    lastState = e.Snapshot.State;
                    changed.Release();
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private static List<Func<CancellationToken, Task<HealthStatus>>> Checks(IResource resource)
    {
        var checks = new List<Func<CancellationToken, Task<HealthStatus>>>();
        foreach (var annotation in resource.Annotations.All<HealthCheckAnnotation>())
        {
            checks.Add(async ct => (await annotation.Check(ct).ConfigureAwait(false)).Status);
        }
        foreach (var http in resource.Annotations.All<HttpHealthCheckAnnotation>())
        {
            var endpoint = resource.Annotations.All<EndpointAnnotation>().FirstOrDefault(e => e.Name == http.EndpointName)
                ?? throw new DistributedApplicationException($"WithHttpHealthCheck on '{resource.Name}' names endpoint '{http.EndpointName}', which it does not have.");
            checks.Add(async ct =>
            {
                foreach (var allocated in endpoint.AllocatedEndpoints)
                {
                    using var response = await Http.GetAsync(new Uri(new Uri(allocated.Url), http.Path), ct).ConfigureAwait(false);
                    if ((int)response.StatusCode != http.ExpectedStatusCode)
                    {
                        return HealthStatus.Unhealthy;
                    }
                }
                return HealthStatus.Healthy;
            });
        }
        return checks;
    }

    private static async Task<HealthStatus> CheckAsync(List<Func<CancellationToken, Task<HealthStatus>>> checks, CancellationToken cancellationToken)
    {
        var worst = HealthStatus.Healthy;
        foreach (var check in checks)
        {
            HealthStatus status;
            try
            {
                status = await check(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                status = HealthStatus.Unhealthy;
            }
            worst = status < worst ? status : worst;
        }
        return worst;
    }

    private sealed class Tick
    {
        public CustomResourceSnapshot Snapshot { get; set; } = null!;
        public TimeSpan NextDelay { get; set; }
    }
}
