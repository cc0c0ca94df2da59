using System.Text.Json;

namespace HomeIQ.Contracts;

/// <summary>
/// A command to one device, as a request over the broker: the requester (Automations) publishes it, Ingestion delivers it to the hub
/// connected on the stream or to the Home Assistant that bridges the device, and sends exactly one <see cref="DeviceCommandCompleted"/>
/// with the same <paramref name="CommandId"/> straight to the <paramref name="ReplyTo"/> queue. A command that cannot be delivered
/// (no hub connected) is answered at once with <see cref="CommandOutcome.NotConnected"/>; one the device does not answer before
/// <paramref name="Deadline"/> is answered with <see cref="CommandOutcome.TimedOut"/>, and the requester also counts it timed out
/// when no reply arrives by then.
/// </summary>
/// <param name="CommandId">The correlation id: the reply carries it.</param>
/// <param name="HomeId">The device's home.</param>
/// <param name="DeviceId">The HomeIQ device.</param>
/// <param name="Action">What to do: <c>turn_on</c>, <c>turn_off</c>, <c>toggle</c>, or <c>set</c> with <paramref name="Parameters"/>.</param>
/// <param name="Parameters">Arguments of the action (<c>brightness</c>, <c>temperature</c>…), passed through to the hub or Home Assistant's service data.</param>
/// <param name="Deadline">When the requester stops waiting.</param>
/// <param name="ReplyTo">The queue the reply is sent to (the requester's durable queue, so a reply survives the requester's restart).</param>
[EventName("device.command.v1")]
public sealed record DeviceCommandRequested(Guid CommandId, Guid HomeId, Guid DeviceId, string Action,
    IReadOnlyDictionary<string, JsonElement>? Parameters, DateTimeOffset Deadline, string ReplyTo) : IntegrationEvent;

/// <summary>How a device command ended. Carried as a number: new outcomes are appended, never inserted.</summary>
public enum CommandOutcome
{
    /// <summary>The hub or Home Assistant carried the command out.</summary>
    Succeeded,
    /// <summary>The hub or Home Assistant answered with an error (see the reason).</summary>
    Failed,
    /// <summary>No answer before the deadline.</summary>
    TimedOut,
    /// <summary>No hub or Home Assistant connection reaches the device right now; nothing was sent.</summary>
    NotConnected,
}

/// <summary>The reply to a <see cref="DeviceCommandRequested"/>, sent to its <c>ReplyTo</c> queue.</summary>
/// <param name="CommandId">The request's correlation id.</param>
/// <param name="HomeId">The device's home.</param>
/// <param name="DeviceId">The device.</param>
/// <param name="Outcome">How it ended.</param>
/// <param name="Reason">Why it failed, in words a user can read; null on success.</param>
/// <param name="State">The device's state after the command, when the hub or Home Assistant reported it (<c>on</c>, <c>off</c>…).</param>
/// <param name="Attributes">The state's attributes (<c>brightness</c>…), when reported.</param>
[EventName("device.command-completed.v1")]
public sealed record DeviceCommandCompleted(Guid CommandId, Guid HomeId, Guid DeviceId, CommandOutcome Outcome, string? Reason,
    string? State = null, IReadOnlyDictionary<string, string>? Attributes = null) : IntegrationEvent;
