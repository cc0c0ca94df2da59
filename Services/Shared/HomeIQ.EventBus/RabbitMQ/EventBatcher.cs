using System.Diagnostics;
using System.Threading.Channels;
using HomeIQ.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HomeIQ.EventBus.RabbitMQ;

/// <summary>
/// Gathers the deliveries of one batch subscription and runs its handler on them together, one batch at a time. Each delivery
/// waits for the outcome of its own event, so the consumer settles it (ack, retry or dead-letter) exactly as for a single handler.
/// A batch that fails is handled again one event at a time, so a poison message fails alone and the others go through.
/// </summary>
internal sealed class EventBatcher(string eventName, EventSubscriptions.BatchSettings settings, int maxInFlight, IServiceScopeFactory scopes, ILogger logger)
{
    private readonly Channel<Pending> _pending = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    // Deliveries beyond the consumer's concurrency never come, so a larger batch of single-event messages would always wait out MaxWait.
    private readonly int _maxBatch = Math.Max(1, Math.Min(settings.MaxBatch, maxInFlight));
    private Task? _loop;

    private sealed record Pending(IntegrationEvent Event, ActivityContext Context, TaskCompletionSource Done);

    public void Start() => _loop = Task.Run(RunAsync);

    /// <summary>Completes when the batch holding <paramref name="event"/> committed; throws what its handling threw.</summary>
    public Task HandleAsync(IntegrationEvent @event, ActivityContext context)
    {
        var pending = new Pending(@event, context, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        return _pending.Writer.TryWrite(pending) ? pending.Done.Task : Task.FromException(new InvalidOperationException("The consumer is stopping."));
    }

    /// <summary>Takes no more events and waits for the batches already gathered.</summary>
    public async Task StopAsync()
    {
        _pending.Writer.TryComplete();
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }
    }

    private async Task RunAsync()
    {
        var reader = _pending.Reader;
        var batch = new List<Pending>(_maxBatch);
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            var deadline = Stopwatch.GetTimestamp() + (long)(settings.MaxWait.TotalSeconds * Stopwatch.Frequency);
            while (batch.Count < _maxBatch)
            {
                if (reader.TryRead(out var next))
                {
                    batch.Add(next);
                    continue;
                }
                var remaining = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
                if (batch.Count > 0 && remaining <= TimeSpan.Zero)
                {
                    break;
                }
                using var wait = new CancellationTokenSource(remaining > TimeSpan.Zero ? remaining : TimeSpan.FromMilliseconds(1));
                try
                {
                    if (!await reader.WaitToReadAsync(wait.Token).ConfigureAwait(false))
                    {
                        break;
                    }
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
            if (batch.Count > 0)
            {
                await RunBatchAsync(batch).ConfigureAwait(false);
                batch.Clear();
            }
        }
    }

    private async Task RunBatchAsync(List<Pending> batch)
    {
        var links = new ActivityLink[batch.Count];
        var events = new IntegrationEvent[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            links[i] = new ActivityLink(batch[i].Context);
            events[i] = batch[i].Event;
        }
        Exception? failure;
        using (var activity = EventBusTelemetry.Source.StartActivity($"process batch {eventName}", ActivityKind.Consumer, default(ActivityContext), links: links))
        {
            activity?.SetTag("messaging.system", "rabbitmq").SetTag("messaging.operation.type", "process").SetTag("messaging.batch.message_count", batch.Count);
            failure = await InvokeAsync(scope => settings.Invoke(scope, events, CancellationToken.None)).ConfigureAwait(false);
            if (failure is not null)
            {
                activity?.SetStatus(ActivityStatusCode.Error, failure.Message);
            }
        }
        if (failure is null)
        {
            foreach (var pending in batch)
            {
                pending.Done.TrySetResult();
            }
            return;
        }
        if (batch.Count == 1)
        {
            batch[0].Done.TrySetException(failure);
            return;
        }
        logger.LogWarning(failure, "A batch of {Count} {Event} failed; handling its events one at a time", batch.Count, eventName);
        foreach (var pending in batch)
        {
            using var activity = EventBusTelemetry.Source.StartActivity($"process {eventName} alone", ActivityKind.Internal, pending.Context);
            var alone = await InvokeAsync(scope => settings.Invoke(scope, [pending.Event], CancellationToken.None)).ConfigureAwait(false);
            if (alone is null)
            {
                pending.Done.TrySetResult();
            }
            else
            {
                activity?.SetStatus(ActivityStatusCode.Error, alone.Message);
                pending.Done.TrySetException(alone);
            }
        }
    }

    private async Task<Exception?> InvokeAsync(Func<IServiceProvider, Task> invoke)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            await invoke(scope.ServiceProvider).ConfigureAwait(false);
            return null;
        }
        catch (Exception ex)
        {
            return ex;
        }
    }
}
