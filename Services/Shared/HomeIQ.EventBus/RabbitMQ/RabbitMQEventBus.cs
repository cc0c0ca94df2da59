using System.Diagnostics;
using HomeIQ.Contracts;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace HomeIQ.EventBus.RabbitMQ;

/// <summary>
/// Publishes on a channel with publisher confirms and tracking: each publish completes when the broker has confirmed it,
/// and fails when the broker nacks it or returns it as unroutable (messages are mandatory and persistent).
/// Many publishes may be in flight at once; their confirms arrive pipelined.
/// </summary>
public sealed class RabbitMQEventBus(IConnection connection, IOptions<EventBusOptions> options) : IEventBus, ISerializedEventPublisher, IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly EventBusOptions _options = options.Value;
    private IChannel? _channel;

    /// <inheritdoc />
    public Task PublishAsync<TEvent>(TEvent @event, CancellationToken cancellationToken = default) where TEvent : IntegrationEvent
    {
        ArgumentNullException.ThrowIfNull(@event);
        var name = EventNames.Of(@event.GetType());
        var (body, contentType) = EventBody.Write(@event);
        return PublishAsync(_options.ExchangeName, name, name, @event.Id, body, contentType, parent: default, cancellationToken);
    }

    /// <inheritdoc />
    public Task PublishManyAsync<TEvent>(IReadOnlyList<TEvent> events, CancellationToken cancellationToken = default) where TEvent : IntegrationEvent
    {
        ArgumentNullException.ThrowIfNull(events);
        switch (events.Count)
        {
            case 0:
                throw new ArgumentException("There is no event to publish.", nameof(events));
            case 1:
                return PublishAsync(events[0], cancellationToken);
        }
        var name = EventNames.Of(events[0].GetType());
        var (body, contentType) = EventBody.WriteMany(events);
        // The message has an id of its own; each event inside keeps its id.
        return PublishAsync(_options.ExchangeName, name, name, Guid.CreateVersion7(), body, contentType, parent: default, cancellationToken, events.Count);
    }

    /// <inheritdoc />
    public Task SendAsync<TEvent>(string queue, TEvent @event, CancellationToken cancellationToken = default) where TEvent : IntegrationEvent
    {
        ArgumentException.ThrowIfNullOrEmpty(queue);
        ArgumentNullException.ThrowIfNull(@event);
        var (body, contentType) = EventBody.Write(@event);
        return PublishAsync("", queue, EventNames.Of(@event.GetType()), @event.Id, body, contentType, parent: default, cancellationToken);
    }

    /// <inheritdoc />
    public Task PublishAsync(string eventName, Guid eventId, ReadOnlyMemory<byte> body, ActivityContext parent, CancellationToken cancellationToken) =>
        PublishAsync(_options.ExchangeName, eventName, eventName, eventId, body, EventBody.Json, parent, cancellationToken);

    private async Task PublishAsync(string exchange, string routingKey, string eventName, Guid eventId, ReadOnlyMemory<byte> body, string contentType,
        ActivityContext parent, CancellationToken cancellationToken, int events = 1)
    {
        using var activity = EventBusTelemetry.StartPublish(exchange.Length == 0 ? routingKey : exchange, eventName, eventId.ToString(), parent);
        var traced = activity ?? Activity.Current;
        Dictionary<string, object?>? headers = null;
        if (traced is not null)
        {
            headers = [];
            EventBusTelemetry.Inject(traced, headers);
        }
        var properties = new BasicProperties
        {
            MessageId = eventId.ToString(),
            Type = eventName,
            ContentType = contentType,
            DeliveryMode = DeliveryModes.Persistent,
            Timestamp = new AmqpTimestamp(DateTimeOffset.UtcNow.ToUnixTimeSeconds()),
            Headers = headers,
        };
        await SendAsync(exchange, routingKey, properties, body, cancellationToken).ConfigureAwait(false);
        EventBusTelemetry.Published.Add(events, new KeyValuePair<string, object?>("event", eventName));
    }

    /// <summary>Sends with confirms to any exchange (retry and dead-letter queues go through the default exchange).</summary>
    internal async Task SendAsync(string exchange, string routingKey, BasicProperties properties, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        // RabbitMQ.Client waits for the confirm as long as the token allows: bound it, so a blocked or hung broker fails the publish.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.PublishTimeout);
        try
        {
            var channel = await GetChannelAsync(timeout.Token).ConfigureAwait(false);
            await channel.BasicPublishAsync(exchange, routingKey, mandatory: true, properties, body, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new EventBusPublishException($"The broker did not confirm '{routingKey}' within {_options.PublishTimeout.TotalSeconds:0.#} s.", ex);
        }
        catch (PublishException ex) when (ex.IsReturn)
        {
            throw new EventBusPublishException(
                $"No queue is bound for '{routingKey}' on exchange '{(exchange.Length == 0 ? "(default)" : exchange)}': the message was returned as unroutable.", ex,
                unroutable: true);
        }
        catch (PublishException ex)
        {
            throw new EventBusPublishException($"The broker refused '{routingKey}' (nack).", ex);
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not EventBusPublishException)
        {
            // Connection down or recovering (AlreadyClosed, OperationInterrupted, BrokerUnreachable, IO): one exception type for callers.
            throw new EventBusPublishException($"The broker could not take '{routingKey}': {ex.Message}", ex);
        }
    }

    private async ValueTask<IChannel> GetChannelAsync(CancellationToken cancellationToken)
    {
        if (_channel is { IsOpen: true } open)
        {
            return open;
        }
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_channel is not { IsOpen: true })
            {
                if (_channel is not null)
                {
                    await _channel.DisposeAsync().ConfigureAwait(false);
                }
                _channel = await connection.CreateChannelAsync(
                    new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), cancellationToken).ConfigureAwait(false);
                await Topology.DeclareExchangeAsync(_channel, _options, cancellationToken).ConfigureAwait(false);
            }
            return _channel;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_channel is not null)
        {
            await _channel.DisposeAsync().ConfigureAwait(false);
        }
        _gate.Dispose();
    }
}
