using System.Text.Json;
using HomeIQ.Contracts;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace HomeIQ.Ingestion.Commands;

/// <summary>
/// This replica's own queue, <c>ingestion.commands.{replica}</c>: exclusive, so it exists exactly while the replica is connected to the
/// broker, and a command handed to a replica that is gone comes back unroutable. Each command is delivered here
/// (<see cref="CommandExecutor"/>) and acknowledged after its reply was confirmed; when the reply could not be sent it is returned to the
/// queue, and its redelivery sends the stored reply without running the command again.
/// </summary>
internal sealed class ReplicaCommandQueue(IConnection connection, CommandRegistry registry, CommandExecutor executor, ILogger<ReplicaCommandQueue> logger)
    : BackgroundService
{
    /// <summary>As many commands may wait for their devices at once.</summary>
    private const ushort Concurrency = 64;
    private IChannel? _channel;

    public static string QueueOf(string replica) => $"ingestion.commands.{replica}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var queue = QueueOf(registry.Replica);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var channel = await connection.CreateChannelAsync(new CreateChannelOptions(false, false, consumerDispatchConcurrency: Concurrency), stoppingToken)
                    .ConfigureAwait(false);
                await channel.QueueDeclareAsync(queue, durable: false, exclusive: true, autoDelete: true, cancellationToken: stoppingToken).ConfigureAwait(false);
                await channel.BasicQosAsync(0, Concurrency, global: false, stoppingToken).ConfigureAwait(false);
                var consumer = new AsyncEventingBasicConsumer(channel);
                consumer.ReceivedAsync += (_, delivery) => OnDeliveryAsync(channel, delivery);
                await channel.BasicConsumeAsync(queue, autoAck: false, consumer, stoppingToken).ConfigureAwait(false);
                _channel = channel;
                logger.LogInformation("Consuming {Queue} for commands handed over by the other replicas", queue);
                return;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(ex, "Could not consume {Queue}; trying again in 2 s", queue);
                await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private async Task OnDeliveryAsync(IChannel channel, BasicDeliverEventArgs delivery)
    {
        DeviceCommandRequested? command;
        try
        {
            command = JsonSerializer.Deserialize<DeviceCommandRequested>(delivery.Body.Span, JsonSerializerOptions.Web);
        }
        catch (JsonException ex)
        {
            logger.LogWarning(ex, "Dropped a malformed command from {Queue}", QueueOf(registry.Replica));
            command = null;
        }
        try
        {
            if (command is not null)
            {
                await executor.ExecuteAsync(command).ConfigureAwait(false);
            }
            await channel.BasicAckAsync(delivery.DeliveryTag, multiple: false).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Command {CommandId} could not be answered; returning it to the queue", command?.CommandId);
            await Task.Delay(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
            try
            {
                await channel.BasicNackAsync(delivery.DeliveryTag, multiple: false, requeue: true).ConfigureAwait(false);
            }
            catch (Exception nack) when (nack is RabbitMQ.Client.Exceptions.AlreadyClosedException or RabbitMQ.Client.Exceptions.OperationInterruptedException)
            {
                // The channel closed: the broker requeues it anyway (or the exclusive queue went with it).
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (_channel is { IsOpen: true } channel)
        {
            await channel.CloseAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public override void Dispose()
    {
        _channel?.Dispose();
        base.Dispose();
    }
}
