using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using HomeIQ.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace HomeIQ.EventBus.RabbitMQ;

/// <summary>
/// Consumes this service's queue: a prefetch window, up to <see cref="EventBusOptions.MaxConcurrency"/> handlers at once,
/// and an ack only after the handler (and its transaction) succeeded. A failed delivery is republished with confirms to
/// the retry queue of its attempt (then acked), and after <see cref="EventBusOptions.MaxAttempts"/> to the dead-letter queue;
/// a malformed or unknown message goes straight there with the reason. If even that republish fails the delivery is
/// nacked back onto the queue, so nothing is ever dropped.
/// </summary>
internal sealed class EventConsumer(
    IConnection connection, RabbitMQEventBus bus, EventSubscriptions subscriptions, IServiceScopeFactory scopes,
    IOptions<EventBusOptions> options, ILogger<EventConsumer> logger) : IHostedService, IAsyncDisposable
{
    internal const string AttemptHeader = "x-attempt";
    internal const string LastErrorHeader = "x-last-error";
    internal const string ReasonHeader = "x-dead-letter-reason";
    private readonly EventBusOptions _options = options.Value;
    private IChannel? _channel;
    private string? _consumerTag;
    private int _inFlight;
    private readonly Dictionary<string, EventBatcher> _batchers = new(StringComparer.Ordinal);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (subscriptions.EventNames.Count == 0)
        {
            return;
        }
        _channel = await connection.CreateChannelAsync(
            new CreateChannelOptions(false, false, consumerDispatchConcurrency: (ushort)_options.MaxConcurrency), cancellationToken).ConfigureAwait(false);
        foreach (var name in subscriptions.EventNames)
        {
            if (subscriptions.TryGet(name, out var subscription) && subscription.Batch is { } batch)
            {
                var batcher = new EventBatcher(name, batch, _options.MaxConcurrency, scopes, logger);
                _batchers[name] = batcher;
                batcher.Start();
            }
        }
        await Topology.DeclareConsumerAsync(_channel, _options, subscriptions.EventNames, cancellationToken).ConfigureAwait(false);
        await _channel.BasicQosAsync(0, (ushort)_options.PrefetchCount, global: false, cancellationToken).ConfigureAwait(false);
        var consumer = new AsyncEventingBasicConsumer(_channel);
        consumer.ReceivedAsync += (_, delivery) => OnDeliveryAsync(delivery);
        _consumerTag = await _channel.BasicConsumeAsync(_options.QueueName, autoAck: false, consumer, cancellationToken).ConfigureAwait(false);
        logger.LogInformation("Consuming {Queue} for {Events}", _options.QueueName, string.Join(", ", subscriptions.EventNames));
    }

    /// <summary>Stops taking deliveries, lets running handlers finish and settle (up to 10 s), then closes the channel.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_channel is not { IsOpen: true })
        {
            return;
        }
        if (_consumerTag is not null)
        {
            await _channel.BasicCancelAsync(_consumerTag, noWait: false, cancellationToken).ConfigureAwait(false);
        }
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (Volatile.Read(ref _inFlight) > 0 && DateTime.UtcNow < deadline && !cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(50, CancellationToken.None).ConfigureAwait(false);
        }
        foreach (var batcher in _batchers.Values)
        {
            await batcher.StopAsync().ConfigureAwait(false);
        }
        await _channel.CloseAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task OnDeliveryAsync(BasicDeliverEventArgs delivery)
    {
        var channel = _channel!;
        var properties = delivery.BasicProperties;
        var eventName = properties.Type ?? delivery.RoutingKey;
        var headers = properties.Headers is null ? new Dictionary<string, object?>() : new Dictionary<string, object?>(properties.Headers);
        var attempt = headers.TryGetValue(AttemptHeader, out var a) && int.TryParse(EventBusTelemetry.HeaderString(a), CultureInfo.InvariantCulture, out var n) ? n : 1;
        var body = delivery.Body.ToArray();
        using var activity = EventBusTelemetry.StartProcess(_options.QueueName, eventName, properties.MessageId, headers);
        var tag = new KeyValuePair<string, object?>("event", eventName);

        if (!subscriptions.TryGet(eventName, out var subscription))
        {
            await DeadLetterAsync(delivery, body, headers, $"no handler for event '{eventName}'", attempt).ConfigureAwait(false);
            return;
        }
        IReadOnlyList<IntegrationEvent> events;
        try
        {
            events = EventBody.Read(body, properties.ContentType, subscription.EventType);
        }
        catch (Exception ex) when (ex is JsonException or InvalidDataException or NotSupportedException or ArgumentException)
        {
            await DeadLetterAsync(delivery, body, headers, $"malformed '{eventName}': {ex.Message}", attempt).ConfigureAwait(false);
            return;
        }

        var started = Stopwatch.GetTimestamp();
        Interlocked.Increment(ref _inFlight);
        Exception? failure = null;
        try
        {
            // A message may carry several events (a set of reading batches): it is settled once all of them are handled, and if one
            // fails the whole message is retried; the handlers' inboxes or keys make the events already handled harmless the second time.
            if (_batchers.TryGetValue(eventName, out var batcher))
            {
                var handled = new Task[events.Count];
                for (var i = 0; i < handled.Length; i++)
                {
                    handled[i] = batcher.HandleAsync(events[i], activity?.Context ?? default);
                }
                await Task.WhenAll(handled).ConfigureAwait(false);
            }
            else
            {
                foreach (var @event in events)
                {
                    await using var scope = scopes.CreateAsyncScope();
                    await subscription.Invoke(scope.ServiceProvider, @event, CancellationToken.None).ConfigureAwait(false);
                }
            }
        }
        catch (Exception ex)
        {
            failure = ex;
        }
        finally
        {
            EventBusTelemetry.HandlerDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tag);
        }
        try
        {
            if (failure is null)
            {
                // Only a failed handler takes the retry path. If this ack is lost the broker redelivers; inboxes make that harmless.
                await channel.BasicAckAsync(delivery.DeliveryTag, multiple: false).ConfigureAwait(false);
                EventBusTelemetry.Consumed.Add(events.Count, tag);
            }
            else
            {
                await HandleFailureAsync(delivery, body, headers, eventName, attempt, failure, activity).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is AlreadyClosedException or OperationInterruptedException)
        {
            logger.LogWarning("Could not settle {MessageId}: the channel closed ({Message}); the broker will redeliver it", properties.MessageId, ex.Message);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private async Task HandleFailureAsync(BasicDeliverEventArgs delivery, byte[] body, Dictionary<string, object?> headers, string eventName, int attempt,
        Exception ex, Activity? activity)
    {
        var messageId = delivery.BasicProperties.MessageId;
        activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
        headers[LastErrorHeader] = $"{ex.GetType().Name}: {ex.Message}";
        if (attempt >= _options.MaxAttempts)
        {
            logger.LogError(ex, "{Event} {MessageId} failed on attempt {Attempt} of {Max}; dead-lettering it", eventName, messageId, attempt, _options.MaxAttempts);
            await DeadLetterAsync(delivery, body, headers, $"handler failed {attempt} times", attempt).ConfigureAwait(false);
            return;
        }
        var delay = _options.RetryDelays[Math.Min(attempt - 1, _options.RetryDelays.Length - 1)];
        logger.LogWarning(ex, "{Event} {MessageId} failed on attempt {Attempt}; retrying in {Delay}", eventName, messageId, attempt, Topology.Describe(delay));
        headers[AttemptHeader] = (attempt + 1).ToString(CultureInfo.InvariantCulture);
        if (await RepublishAsync(delivery, body, headers, Topology.RetryQueueFor(_options, attempt)).ConfigureAwait(false))
        {
            EventBusTelemetry.Retried.Add(1, new KeyValuePair<string, object?>("event", eventName));
        }
    }

    private async Task DeadLetterAsync(BasicDeliverEventArgs delivery, byte[] body, Dictionary<string, object?> headers, string reason, int attempts)
    {
        headers[ReasonHeader] = reason;
        headers["x-attempts"] = attempts.ToString(CultureInfo.InvariantCulture);
        headers["x-original-exchange"] = delivery.Exchange;
        headers["x-original-routing-key"] = delivery.RoutingKey;
        headers["x-failed-at"] = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture);
        if (await RepublishAsync(delivery, body, headers, Topology.DeadLetterQueue(_options.QueueName)).ConfigureAwait(false))
        {
            logger.LogWarning("Dead-lettered {MessageId} ({Event}): {Reason}", delivery.BasicProperties.MessageId, delivery.BasicProperties.Type, reason);
            EventBusTelemetry.DeadLettered.Add(1, new KeyValuePair<string, object?>("event", delivery.BasicProperties.Type ?? delivery.RoutingKey));
        }
    }

    /// <summary>Moves a delivery to another queue: publish with confirm first, ack second; on failure, nack it back to its queue.</summary>
    private async Task<bool> RepublishAsync(BasicDeliverEventArgs delivery, byte[] body, Dictionary<string, object?> headers, string queue)
    {
        var original = delivery.BasicProperties;
        var properties = new BasicProperties
        {
            MessageId = original.MessageId,
            Type = original.Type ?? delivery.RoutingKey,
            ContentType = original.ContentType,
            DeliveryMode = DeliveryModes.Persistent,
            Timestamp = original.Timestamp,
            Headers = headers,
        };
        try
        {
            await bus.SendAsync("", queue, properties, body, CancellationToken.None).ConfigureAwait(false);
            await _channel!.BasicAckAsync(delivery.DeliveryTag, multiple: false).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Could not move {MessageId} to {Queue}; returning it to {Source}", original.MessageId, queue, _options.QueueName);
            await Task.Delay(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
            await _channel!.BasicNackAsync(delivery.DeliveryTag, multiple: false, requeue: true).ConfigureAwait(false);
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_channel is not null)
        {
            await _channel.DisposeAsync().ConfigureAwait(false);
        }
    }
}
