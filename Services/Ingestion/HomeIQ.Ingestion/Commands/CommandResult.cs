using HomeIQ.Contracts;

namespace HomeIQ.Ingestion.Commands;

/// <summary>How one delivery of a command ended, before it becomes the reply.</summary>
internal sealed record CommandResult(CommandOutcome Outcome, string? Reason, string? State = null, IReadOnlyDictionary<string, string>? Attributes = null)
{
    public static CommandResult NotConnected(string reason) => new(CommandOutcome.NotConnected, reason);

    public DeviceCommandCompleted ToReply(DeviceCommandRequested command) =>
        new(command.CommandId, command.HomeId, command.DeviceId, Outcome, Reason, State, Attributes);
}

/// <summary>A hub connection on this replica that can carry commands (a WebSocket stream).</summary>
internal interface ICommandTarget
{
    /// <summary>The home whose hub key opened the connection.</summary>
    Guid HomeId { get; }

    /// <summary>
    /// Sends the command and waits for the hub's answer; <paramref name="cancellationToken"/> is the command's deadline (the caller turns
    /// its cancellation into <see cref="CommandOutcome.TimedOut"/>).
    /// </summary>
    Task<CommandResult> SendCommandAsync(DeviceCommandRequested command, CancellationToken cancellationToken);
}
