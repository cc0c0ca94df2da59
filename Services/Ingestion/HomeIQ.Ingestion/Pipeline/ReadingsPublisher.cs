using System.Diagnostics;
using HomeIQ.Contracts;
using HomeIQ.EventBus;
using Microsoft.Extensions.Options;

namespace HomeIQ.Ingestion.Pipeline;

/// <summary>
/// Publishes accepted batches, several to a broker message when they come together. At most
/// <see cref="IngestionOptions.PublishesInFlight"/> messages wait for the broker's confirm at once; the batches accepted in the meantime
/// gather and leave together in the next message (batches of any homes, up to <see cref="IngestionOptions.MaxReadingsPerMessage"/>
/// readings). A batch that finds a free slot leaves at once, so nothing waits that did not have to, and under load messages grow
/// instead of multiplying: the broker's cost is mostly per message. A caller's task completes when the message holding its batch
/// was confirmed, and fails with it.
/// </summary>
internal sealed class ReadingsPublisher(IEventBus bus, IOptions<IngestionOptions> options)
{
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
        if (_options.MaxReadingsPerMessage == 0)
        {
            return bus.PublishAsync(@event, cancellationToken);
        }
        var pending = new Pending(@event, Activity.Current?.Context ?? default, cancellationToken);
        bool start;
        lock (_lock)
        {
            _waiting.Enqueue(pending);
            start = _publishing < _options.PublishesInFlight;
            if (start)
            {
                _publishing++;
            }
        }
        if (start)
        {
            // The loop publishes other callers' batches too: it must not run in this caller's trace or logging scope.
            using (ExecutionContext.SuppressFlow())
            {
                _ = Task.Run(PublishWaitingAsync, CancellationToken.None);
            }
        }
        return pending.Done.Task.WaitAsync(cancellationToken);
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
            if (group.Count > 0 && readings + count > _options.MaxReadingsPerMessage)
            {
                return;
            }
            _waiting.Dequeue();
            group.Add(next);
            readings += count;
        }
    }
}
