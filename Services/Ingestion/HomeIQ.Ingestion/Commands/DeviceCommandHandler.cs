using HomeIQ.Contracts;
using HomeIQ.EventBus;
using HomeIQ.Ingestion.HomeAssistant;
using HomeIQ.Ingestion.Mqtt;

namespace HomeIQ.Ingestion.Commands;

/// <summary>
/// Takes <c>device.command.v1</c> from the queue the replicas share and gets it to the replica holding the connection that reaches the
/// device: this one for an MQTT device (each replica reaches the broker), the Home Assistant bridge's (the lease holder) for a bridged device, else the one whose hub last sent readings for the device,
/// else any with a hub of the home (this one first). That replica delivers it (here directly, elsewhere through its own queue,
/// <see cref="ReplicaCommandQueue"/>). No such replica, or one whose queue is gone, is answered <see cref="CommandOutcome.NotConnected"/> at once.
/// The message is acknowledged when this returns: after the reply was confirmed, or the command was handed to the other replica's queue.
/// </summary>
internal sealed class DeviceCommandHandler(
    CommandExecutor executor, CommandRegistry registry, HubConnections hubs, HomeAssistantRoute homeAssistant, IServiceProvider services,
    IEventBus bus, TimeProvider time, ILogger<DeviceCommandHandler> logger) : IIntegrationEventHandler<DeviceCommandRequested>
{
    public async Task HandleAsync(DeviceCommandRequested command, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(command.ReplyTo))
        {
            logger.LogWarning("Command {CommandId} has no reply-to queue; it is dropped", command.CommandId);
            return;
        }
        if (!DeviceCommands.IsKnown(command.Action))
        {
            await executor.ReplyAsync(command, new(CommandOutcome.Failed,
                $"Unknown action '{command.Action}': one of turn_on, turn_off, toggle, set.")).ConfigureAwait(false);
            return;
        }
        if (command.Deadline <= time.GetUtcNow())
        {
            await executor.ReplyAsync(command, new(CommandOutcome.TimedOut, "The deadline had passed when the command reached ingestion.")).ConfigureAwait(false);
            return;
        }
        var (replica, reason) = await FindReplicaAsync(command).ConfigureAwait(false);
        if (replica is null)
        {
            await executor.ReplyAsync(command, CommandResult.NotConnected(reason!)).ConfigureAwait(false);
            return;
        }
        if (replica == registry.Replica)
        {
            await executor.ExecuteAsync(command).ConfigureAwait(false);
            return;
        }
        try
        {
            await bus.SendAsync(ReplicaCommandQueue.QueueOf(replica), command, cancellationToken).ConfigureAwait(false);
            logger.LogDebug("Command {CommandId} handed to replica {Replica}", command.CommandId, replica);
        }
        catch (EventBusPublishException ex) when (ex.Unroutable)
        {
            await executor.ReplyAsync(command, CommandResult.NotConnected("The replica holding the connection has gone; the hub will reconnect.")).ConfigureAwait(false);
        }
    }

    private async Task<(string? Replica, string? Reason)> FindReplicaAsync(DeviceCommandRequested command)
    {
        if (services.GetService<MqttDeviceMap>() is { } mqtt && await mqtt.ExternalIdOfAsync(command.HomeId, command.DeviceId, CancellationToken.None).ConfigureAwait(false) is not null)
        {
            return (registry.Replica, null); // every replica has its own connection to the broker
        }
        if (await homeAssistant.EntityOfAsync(command.HomeId, command.DeviceId).ConfigureAwait(false) is not null)
        {
            var holder = services.GetService<IBridgeLease>() is { } lease ? await lease.HolderAsync(CancellationToken.None).ConfigureAwait(false) : null;
            return holder is null ? (null, "No replica runs the Home Assistant bridge now.") : (holder, null);
        }
        var replicas = await registry.HubReplicasAsync(command.HomeId).ConfigureAwait(false);
        var last = await registry.DeviceReplicaAsync(command.HomeId, command.DeviceId).ConfigureAwait(false);
        if (last is not null && replicas.Contains(last))
        {
            return (last, null);
        }
        if (hubs.HasHome(command.HomeId))
        {
            return (registry.Replica, null);
        }
        return replicas.Count > 0 ? (replicas[0], null) : (null, "No hub of the home is connected.");
    }
}
