using System.Diagnostics;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Eventing;
using Aspire.Hosting.Lifecycle;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace HomeIQ.Hosting;

/// <summary>
/// Logs one line when every server, database and service is running and healthy: the moment F5 is done. Until then, every
/// <see cref="ProgressInterval"/> it logs which resources are still starting, and in what state, so a slow start says why.
/// </summary>
internal sealed class ReadyReporter(DistributedApplicationModel model, ResourceNotificationService notifications, ILogger<ReadyReporter> logger)
    : IDistributedApplicationEventingSubscriber, IAsyncDisposable
{
    internal static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(20);

    private readonly CancellationTokenSource _stopping = new();
    private readonly Stopwatch _sinceStart = Stopwatch.StartNew();
    private readonly Lock _lock = new();
    private readonly Dictionary<string, (string Name, string State, bool Ready)> _resources = [];
    private readonly HashSet<string> _seen = [];
    private Task _watch = Task.CompletedTask;

    public Task SubscribeAsync(IDistributedApplicationEventing eventing, DistributedApplicationExecutionContext executionContext, CancellationToken cancellationToken)
    {
        if (executionContext.IsRunMode)
        {
            _watch = Task.Run(() => WatchAsync(_stopping.Token), CancellationToken.None);
        }
        return Task.CompletedTask;
    }

    private async Task WatchAsync(CancellationToken cancellationToken)
    {
        using var done = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var progress = ReportProgressAsync(done.Token);
        try
        {
            await foreach (var e in notifications.WatchAsync(cancellationToken).ConfigureAwait(false))
            {
                if (Observe(e) is { } count)
                {
                    logger.LogInformation("All {Count} resources are running and healthy ({Seconds:F1} s after start).", count, _sinceStart.Elapsed.TotalSeconds);
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            await done.CancelAsync().ConfigureAwait(false);
            await progress.ConfigureAwait(false);
        }
    }

    /// <summary>Records a resource's state; returns how many resources there are once every one is ready.</summary>
    private int? Observe(ResourceEvent e)
    {
        lock (_lock)
        {
            _seen.Add(e.Resource.Name);
            if (e.Resource is ParameterResource || e.Snapshot.IsHidden)
            {
                return null;
            }
            var hasHealthChecks = e.Resource.TryGetAnnotationsIncludingAncestorsOfType<HealthCheckAnnotation>(out _);
            var state = e.Snapshot.State?.Text ?? "Not started";
            var running = state == KnownResourceStates.Running;
            var ready = running && (!hasHealthChecks || e.Snapshot.HealthStatus == HealthStatus.Healthy);
            _resources[e.ResourceId] = (e.ResourceId, running && !ready ? $"{state}, {e.Snapshot.HealthStatus?.ToString() ?? "health unknown"}" : state, ready);
            // Every resource of the model has shown up (replicas each under an id of their own), and all are ready.
            return model.Resources.All(r => r is ParameterResource || _seen.Contains(r.Name)) && _resources.Values.All(r => r.Ready)
                ? _resources.Count
                : null;
        }
    }

    private async Task ReportProgressAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(ProgressInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                string waiting;
                lock (_lock)
                {
                    var notReady = _resources.Values.Where(r => !r.Ready).OrderBy(r => r.Name, StringComparer.Ordinal).ToList();
                    waiting = string.Join(", ", notReady.Select(r => $"{r.Name} ({r.State})"));
                    if (notReady.Count == 0)
                    {
                        waiting = "resources not yet reported";
                    }
                }
                logger.LogInformation("Still starting ({Seconds:F0} s): waiting for {Waiting}.", _sinceStart.Elapsed.TotalSeconds, waiting);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _watch.ConfigureAwait(false);
        _stopping.Dispose();
    }
}
