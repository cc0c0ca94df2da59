using System.Diagnostics;
using HomeIQ.Contracts;
using HomeIQ.EventBus;
using Microsoft.Extensions.Options;

namespace HomeIQ.Ingestion.Pipeline;

/// <summary>
/// Publishes accepted batches; small ones (<see cref="IngestionOptions.SmallBatch"/>) share broker messages when they come together.
/// At most <see cref="IngestionOptions.PublishesInFlight"/> messages of small batches wait for the broker's confirm at once; the small
/// batches accepted in the meantime gather and leave together in the next message (batches of any homes, up to
/// <see cref="MaxReadingsPerMessage"/> readings). A small batch that finds a free slot leaves at once, and under load messages grow
/// instead of multiplying: the broker's cost is mostly per message. Larger batches are published alone and at once. A caller's task
/// completes when the message holding its batch was confirmed, and fails with it.
/// </summary>
internal sealed class ReadingsPublisher(IEventBus bus, IOptions<IngestionOptions> options)
{
    /// <summary>The most readings of small batches that share one message.</summary>
    public const int MaxReadingsPerMessage = 8000;

    private static readonly ActivitySource Source = new("HomeIQ.Ingestion");
    private readonly IngestionOptions _options = options.Value;
    private readonly Lock _lock = new();
    private readonly Queue<Pending> _waiting = new();
    private int _publishing;

    private sealed class Pending(SensorReadingsReceived @event, ActivityContext caller, CancellationToken cancellation)
    {
        public SensorReadingsReceived Event { get; } = @event;
        public ActivityContext Caller { get; } = caller;
        public CancellationToken Cancellation { get; } = cancellation;
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>
    /// Completes once the broker confirmed the message holding <paramref name="event"/>; throws <see cref="EventBusPublishException"/>
    /// when it did not. A caller cancelled before its batch left is left out of the message.
    /// </summary>
    public Task PublishAsync(SensorReadingsReceived @event, CancellationToken cancellationToken)
    {
        if (@event.Readings.Count >= _options.SmallBatch)
        {
            return bus.PublishAsync(@event, cancellationToken);
        }
        Pending? pending = null;
        bool start;
        lock (_lock)
        {
            start = _publishing < _options.PublishesInFlight;
            if (start)
            {
                _publishing++;
            }
            if (!start || _waiting.Count > 0)
            {
                pending = new Pending(@event, Activity.Current?.Context ?? default, cancellationToken);
                _waiting.Enqueue(pending);
            }
        }
        if (pending is null)
        {
            // A free slot and nobody waiting: the batch leaves at once, on this caller's own trace, as a message of its own.
            return PublishAloneAsync(@event, cancellationToken);
        }
        if (start)
        {
            StartPublishingWaiting();
        }
        return pending.Done.Task.WaitAsync(cancellationToken);
    }

    private async Task PublishAloneAsync(SensorReadingsReceived @event, CancellationToken cancellationToken)
    {
        try
        {
            await bus.PublishAsync(@event, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            bool more;
            lock (_lock)
            {
                more = _waiting.Count > 0;
                if (!more)
                {
                    _publishing--;
                }
            }
            if (more)
            {
                // Batches gathered meanwhile: this slot goes on with them, without holding this caller.
                StartPublishingWaiting();
            }
        }
    }

    private void StartPublishingWaiting()
    {
        // The loop publishes other callers' batches: it must not run in this caller's trace or logging scope. (Suppressing a flow that is
        // suppressed already would throw, and leave the waiting batches without a loop.)
        AsyncFlowControl? flow = ExecutionContext.IsFlowSuppressed() ? null : ExecutionContext.SuppressFlow();
        try
        {
            _ = Task.Run(PublishWaitingAsync, CancellationToken.None);
        }
        finally
        {
            flow?.Undo();
        }
    }

    private async Task PublishWaitingAsync()
    {
        var group = new List<Pending>();
        var events = new List<SensorReadingsReceived>();
        while (true)
        {
            lock (_lock)
            {
                TakeGroup(group);
                if (group.Count == 0)
                {
                    _publishing--;
                    return;
                }
            }
            foreach (var pending in group)
            {
                events.Add(pending.Event);
            }
            // A child of the first caller's trace, linked to the others'; the bus's publish span and the consumers' follow it.
            var links = new ActivityLink[group.Count - 1];
            for (var i = 1; i < group.Count; i++)
            {
                links[i - 1] = new ActivityLink(group[i].Caller);
            }
            using (var activity = Source.StartActivity("publish accepted readings", ActivityKind.Internal, group[0].Caller, links: links))
            {
                activity?.SetTag("homeiq.ingestion.batches", group.Count);
                try
                {
                    await bus.PublishManyAsync(events, CancellationToken.None).ConfigureAwait(false);
                    foreach (var pending in group)
                    {
                        pending.Done.TrySetResult();
                    }
                }
                catch (Exception ex)
                {
                    activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
                    foreach (var pending in group)
                    {
                        pending.Done.TrySetException(ex);
                    }
                }
            }
            group.Clear();
            events.Clear();
        }
    }

    /// <summary>The batches that leave next: the oldest waiting one, and those after it while the message stays within the limit.</summary>
    private void TakeGroup(List<Pending> group)
    {
        var readings = 0;
        while (_waiting.TryPeek(out var next))
        {
            if (next.Cancellation.IsCancellationRequested)
            {
                _waiting.Dequeue();
                next.Done.TrySetCanceled(next.Cancellation);
                continue;
            }
            var count = next.Event.Readings.Count;
            if (group.Count > 0 && readings + count > MaxReadingsPerMessage)
            {
                return;
            }
            _waiting.Dequeue();
            group.Add(next);
            readings += count;
        }
    }
}
