using System.ComponentModel.DataAnnotations;
using HomeIQ.Contracts;

namespace HomeIQ.EventBus;

/// <summary>Publishes integration events.</summary>
public interface IEventBus
{
    /// <summary>
    /// Publishes <paramref name="event"/> and returns only after the broker confirmed it.
    /// Throws <see cref="EventBusPublishException"/> when the broker refuses it or no queue is bound for its name.
    /// A service that also changes its database writes the event to the outbox instead.
    /// </summary>
    Task PublishAsync<TEvent>(TEvent @event, CancellationToken cancellationToken = default) where TEvent : IntegrationEvent;

    /// <summary>
    /// Publishes <paramref name="events"/> (at least one, of one type) as one message, and returns only after the broker confirmed it:
    /// all of them are taken, or none. Each reaches its subscribers as if it had been published alone, under its own id. Only reading
    /// batches (<see cref="SensorReadingsReceived"/>) travel several to a message; for other events it throws <see cref="NotSupportedException"/>.
    /// Throws <see cref="EventBusPublishException"/> as <see cref="PublishAsync{TEvent}(TEvent, CancellationToken)"/> does.
    /// </summary>
    Task PublishManyAsync<TEvent>(IReadOnlyList<TEvent> events, CancellationToken cancellationToken = default) where TEvent : IntegrationEvent;

    /// <summary>
    /// Sends <paramref name="event"/> straight to <paramref name="queue"/> (a request's reply-to), not through the event exchange, and
    /// returns only after the broker confirmed it. The receiving service's consumer handles it by its event name, as any other event.
    /// Throws <see cref="EventBusPublishException"/> (unroutable) when the queue does not exist.
    /// </summary>
    Task SendAsync<TEvent>(string queue, TEvent @event, CancellationToken cancellationToken = default) where TEvent : IntegrationEvent;
}

/// <summary>
/// Publishes an event that is already serialised, continuing the trace it was written in: what the outbox relay needs of a
/// broker, so the outbox does not depend on RabbitMQ.
/// </summary>
public interface ISerializedEventPublisher
{
    /// <summary>Publishes <paramref name="body"/> as <paramref name="eventName"/> and returns only after the broker confirmed it.</summary>
    Task PublishAsync(string eventName, Guid eventId, ReadOnlyMemory<byte> body, System.Diagnostics.ActivityContext parent, CancellationToken cancellationToken);
}

/// <summary>Handles one event type. It runs in its own DI scope; the message is acknowledged only when it returns.</summary>
public interface IIntegrationEventHandler<in TEvent> where TEvent : IntegrationEvent
{
    /// <summary>Handles the event; throwing sends the message to the retry path.</summary>
    Task HandleAsync(TEvent @event, CancellationToken cancellationToken);
}

/// <summary>
/// Handles many events of one type together (one transaction for many messages). It runs in its own DI scope; every message of
/// the batch is acknowledged only when it returns. When it throws for a batch of several, each message is handled again alone,
/// so only the one that still fails takes the retry path.
/// </summary>
public interface IIntegrationEventBatchHandler<TEvent> where TEvent : IntegrationEvent
{
    /// <summary>Handles the events (in delivery order); throwing sends them to the retry path.</summary>
    Task HandleAsync(IReadOnlyList<TEvent> events, CancellationToken cancellationToken);
}

/// <summary>The broker did not take a message.</summary>
public sealed class EventBusPublishException(string message, Exception? inner = null, bool unroutable = false) : Exception(message, inner)
{
    /// <summary>The broker returned the message because no queue is bound for it: nobody subscribes to this event.</summary>
    public bool Unroutable { get; } = unroutable;
}

/// <summary>Event bus settings, section <c>EventBus</c>.</summary>
public sealed class EventBusOptions
{
    /// <summary>The topic exchange every event goes to; the routing key is the event name.</summary>
    [Required]
    public string ExchangeName { get; set; } = "homeiq.events";

    /// <summary>This service's durable queue (default: the service name, from OTEL_SERVICE_NAME).</summary>
    [Required]
    public string QueueName { get; set; } = "";

    /// <summary>How many unacknowledged messages the broker sends ahead.</summary>
    [Range(1, 65535)]
    public int PrefetchCount { get; set; } = 64;

    /// <summary>How many handlers run at once.</summary>
    [Range(1, 1024)]
    public int MaxConcurrency { get; set; } = 8;

    /// <summary>Attempts before a message goes to the dead-letter queue.</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 5;

    /// <summary>The delay before each retry; the last one repeats.</summary>
    public TimeSpan[] RetryDelays { get; set; } = [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(30)];

    /// <summary>
    /// How long a publish may take, confirm included, before it fails with <see cref="EventBusPublishException"/>: a broker that is
    /// down, recovering, blocked (resource alarm) or hung must not hold callers for longer than this.
    /// </summary>
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often the outbox relay looks for rows when no commit woke it.</summary>
    public TimeSpan OutboxPollInterval { get; set; } = TimeSpan.FromSeconds(1);
}
