using System.Text.Json;
using HomeIQ.Contracts;
using HomeIQ.EventBus;
using HomeIQ.Ingestion.HomeAssistant;
using HomeIQ.Ingestion.Mqtt;
using StackExchange.Redis;

namespace HomeIQ.Ingestion.Commands;

/// <summary>The actions a command may carry.</summary>
internal static class DeviceCommands
{
    public const string TurnOn = "turn_on";
    public const string TurnOff = "turn_off";
    public const string Toggle = "toggle";
    public const string Set = "set";

    public static bool IsKnown(string? action) => action is TurnOn or TurnOff or Toggle or Set;
}

/// <summary>
/// Delivers a command on this replica, to an MQTT device, to Home Assistant or to a hub connected here, and sends the one reply. Every reply goes through the
/// command's claim (<see cref="CommandRegistry.ClaimAsync"/>): a command already claimed is not delivered again; if its reply was stored but
/// never confirmed (and the first delivery has not confirmed it within <see cref="ResendAfter"/>, the longest a publish may take), that
/// reply is sent instead. Throws only when the reply could not be sent (the caller lets the broker redeliver).
/// </summary>
internal sealed class CommandExecutor(
    HubConnections hubs, HomeAssistantRoute homeAssistant, IServiceProvider services, CommandRegistry registry, IEventBus bus,
    TimeProvider time, ILogger<CommandExecutor> logger)
{
    private static readonly TimeSpan ResendAfter = TimeSpan.FromSeconds(12);

    /// <summary>Delivers the command here and replies. Throws when Devices cannot say whether Home Assistant bridges the device (nothing was claimed).</summary>
    public async Task ExecuteAsync(DeviceCommandRequested command)
    {
        var mqttId = services.GetService<MqttDeviceMap>() is { } mqtt
            ? await mqtt.ExternalIdOfAsync(command.HomeId, command.DeviceId, CancellationToken.None).ConfigureAwait(false)
            : null;
        var entityId = mqttId is null ? await homeAssistant.EntityOfAsync(command.HomeId, command.DeviceId).ConfigureAwait(false) : null;
        await ReplyOnceAsync(command, () => DeliverAsync(command, entityId, mqttId)).ConfigureAwait(false);
    }

    /// <summary>Replies with <paramref name="result"/> unless the command was answered (or is being answered) already.</summary>
    public Task ReplyAsync(DeviceCommandRequested command, CommandResult result) => ReplyOnceAsync(command, () => Task.FromResult(result));

    private async Task ReplyOnceAsync(DeviceCommandRequested command, Func<Task<CommandResult>> deliver)
    {
        var claim = await registry.ClaimAsync(command).ConfigureAwait(false);
        DeviceCommandCompleted reply;
        if (claim.Claimed)
        {
            reply = (await deliver().ConfigureAwait(false)).ToReply(command);
            try
            {
                await registry.StoreReplyAsync(command, JsonSerializer.Serialize(reply, JsonSerializerOptions.Web)).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is RedisException or RedisTimeoutException)
            {
                logger.LogWarning(ex, "Could not keep the reply to command {CommandId} in Redis; sending it anyway", command.CommandId);
            }
        }
        else if (claim.UnconfirmedReply is { } stored && JsonSerializer.Deserialize<DeviceCommandCompleted>(stored, JsonSerializerOptions.Web) is { } earlier)
        {
            // A copy that came while the first delivery is still sending its reply: that one confirms it within a publish's time.
            if (await registry.WaitRepliedAsync(command, ResendAfter, CancellationToken.None).ConfigureAwait(false))
            {
                logger.LogInformation("Command {CommandId} came again while its first delivery was replying; not sent again", command.CommandId);
                return;
            }
            logger.LogInformation("Command {CommandId} came again; sending the reply its first delivery could not send", command.CommandId);
            reply = earlier;
        }
        else
        {
            logger.LogInformation("Command {CommandId} came again; it was delivered once already, so it is not sent to the device again", command.CommandId);
            return;
        }
        try
        {
            await bus.SendAsync(command.ReplyTo, reply).ConfigureAwait(false);
        }
        catch (EventBusPublishException ex) when (ex.Unroutable)
        {
            // Nobody will ever read it: retrying cannot help.
            logger.LogWarning("The reply to command {CommandId} ({Outcome}) was dropped: its reply-to queue '{Queue}' does not exist", command.CommandId, reply.Outcome, command.ReplyTo);
        }
        try
        {
            await registry.MarkRepliedAsync(command).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or RedisTimeoutException)
        {
            logger.LogWarning(ex, "Could not mark command {CommandId} answered in Redis", command.CommandId);
        }
        logger.LogDebug("Command {CommandId} for device {DeviceId}: {Outcome} {Reason}", command.CommandId, command.DeviceId, reply.Outcome, reply.Reason);
    }

    private async Task<CommandResult> DeliverAsync(DeviceCommandRequested command, string? entityId, string? mqttId)
    {
        var left = command.Deadline - time.GetUtcNow();
        if (left <= TimeSpan.Zero)
        {
            return new(CommandOutcome.TimedOut, "The deadline passed before the command could be sent.");
        }
        using var deadline = new CancellationTokenSource(left, time);
        try
        {
            if (mqttId is not null)
            {
                return services.GetService<MqttCommands>() is { } mqtt
                    ? await mqtt.SendAsync(mqttId, command, deadline.Token).ConfigureAwait(false)
                    : CommandResult.NotConnected("This replica does not follow the MQTT broker.");
            }
            if (entityId is not null)
            {
                return await CallHomeAssistantAsync(entityId, command, deadline.Token).ConfigureAwait(false);
            }
            if (hubs.Find(command.HomeId, command.DeviceId) is not { } hub)
            {
                return CommandResult.NotConnected("No hub of the home is connected.");
            }
            return await hub.SendCommandAsync(command, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            return new(CommandOutcome.TimedOut, "The device did not answer before the deadline.");
        }
    }

    private async Task<CommandResult> CallHomeAssistantAsync(string entityId, DeviceCommandRequested command, CancellationToken deadline)
    {
        if (services.GetService<HomeAssistantCommands>() is not { } commands)
        {
            return CommandResult.NotConnected("The Home Assistant bridge does not run on this replica.");
        }
        var (domain, service) = HomeAssistantRoute.ServiceFor(entityId, command);
        var result = await commands.CallServiceAsync(domain, service, entityId, command.Parameters, deadline).ConfigureAwait(false);
        return result switch
        {
            { Sent: false } => CommandResult.NotConnected(result.Error ?? "Home Assistant is not connected."),
            { Success: true } => new(CommandOutcome.Succeeded, null),
            _ => new(CommandOutcome.Failed, result.Error),
        };
    }
}
