using System.Diagnostics;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Eventing;
using Aspire.Hosting.Lifecycle;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace HomeIQ.Hosting;

/// <summary>Logs one line when every server, database and service is running and healthy: the moment F5 is done.</summary>
internal sealed class ReadyReporter(DistributedApplicationModel model, ResourceNotificationService notifications, ILogger<ReadyReporter> logger)
    : IDistributedApplicationEventingSubscriber, IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly Stopwatch _sinceStart = Stopwatch.StartNew();
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
        var ready = new Dictionary<string, bool>();
        var seen = new HashSet<string>();
        try
        {
            await foreach (var e in notifications.WatchAsync(cancellationToken).ConfigureAwait(false))
            {
                seen.Add(e.Resource.Name);
                if (e.Resource is ParameterResource || e.Snapshot.IsHidden)
                {
                    continue;
                }
                var hasHealthChecks = e.Resource.TryGetAnnotationsIncludingAncestorsOfType<HealthCheckAnnotation>(out _);
                ready[e.ResourceId] = e.Snapshot.State?.Text == KnownResourceStates.Running
                    && (!hasHealthChecks || e.Snapshot.HealthStatus == HealthStatus.Healthy);
                // Every resource of the model has shown up (replicas each under an id of their own), and all are ready.
                if (model.Resources.All(r => r is ParameterResource || seen.Contains(r.Name)) && ready.Values.All(r => r))
                {
                    logger.LogInformation("All {Count} resources are running and healthy ({Seconds:F1} s after start).", ready.Count, _sinceStart.Elapsed.TotalSeconds);
                    return;
                }
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
