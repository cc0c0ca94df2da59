using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text.Json;
using HomeIQ.Contracts;
using HomeIQ.Ingestion.Commands;
using HomeIQ.Ingestion.Infrastructure;

namespace HomeIQ.Ingestion.Streaming;

/// <summary>
/// The command side of one hub's stream: sends <c>command</c> frames and matches the hub's <c>command-result</c> frames to them by command id.
/// A result for a command id this connection is not waiting for (answered already, timed out, or never sent) is ignored; a malformed one is
/// reported to the hub like any malformed frame. When the stream ends, commands still waiting fail.
/// </summary>
internal sealed class StreamCommands(StreamSender sender, Guid homeId, ILogger logger) : ICommandTarget
{
    public const string CommandType = "command";
    public const string ResultType = "command-result";
    private const int MaxText = 1000;
    private const int MaxAttributes = 64;

    private readonly ConcurrentDictionary<Guid, TaskCompletionSource<CommandResult>> _pending = new();
    private volatile bool _closed;

    public Guid HomeId => homeId;

    public async Task<CommandResult> SendCommandAsync(DeviceCommandRequested command, CancellationToken cancellationToken)
    {
        var pending = new TaskCompletionSource<CommandResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (_closed || !_pending.TryAdd(command.CommandId, pending))
        {
            return CommandResult.NotConnected("The hub's stream is closing.");
        }
        try
        {
            var frame = new StreamCommand(CommandType, command.CommandId, command.DeviceId, command.Action,
                command.Parameters ?? new Dictionary<string, JsonElement>(), command.Deadline);
            try
            {
                await sender.SendAsync(frame, IngestJsonContext.Default.StreamCommand, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException)
            {
                return CommandResult.NotConnected("The hub's stream closed; the command was not sent.");
            }
            return await pending.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _pending.TryRemove(command.CommandId, out _);
        }
    }

    /// <summary>The <c>type</c> of a frame that has one at its top level (batches have none); null for a batch or for JSON that is not an object.</summary>
    public static string? TypeOf(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isType = reader.ValueTextEquals("type"u8);
                reader.Read();
                if (isType)
                {
                    return reader.TokenType == JsonTokenType.String ? reader.GetString() : "";
                }
                reader.Skip();
            }
        }
        catch (JsonException)
        {
            // Not JSON: the batch parser says so.
        }
        return null;
    }

    /// <summary>Takes a frame with a <c>type</c>: a valid result completes its command (if still waiting); otherwise returns why the frame is wrong.</summary>
    public string? Answer(ReadOnlySpan<byte> json, string type)
    {
        if (type != ResultType)
        {
            return $"Unknown frame type '{type}': a hub sends batches ({{\"readings\":[…]}}) and {ResultType} frames.";
        }
        StreamCommandResult? result;
        try
        {
            result = JsonSerializer.Deserialize(json, IngestJsonContext.Default.StreamCommandResult);
        }
        catch (JsonException ex)
        {
            return $"The frame is not a valid {ResultType}: {ex.Message}";
        }
        if (result is null || result.CommandId == Guid.Empty)
        {
            return $"A {ResultType} names its command: \"commandId\".";
        }
        if (result.Message?.Length > MaxText || result.State?.Length > MaxText)
        {
            return $"A {ResultType}'s message and state are at most {MaxText} characters.";
        }
        if (result.Attributes?.Count > MaxAttributes)
        {
            return $"A {ResultType} carries at most {MaxAttributes} attributes.";
        }
        if (!_pending.TryRemove(result.CommandId, out var pending))
        {
            logger.LogDebug("Ignored a {Type} for command {CommandId} of home {HomeId}: not waiting for it", ResultType, result.CommandId, homeId);
            return null;
        }
        var attributes = result.Attributes?.ToDictionary(a => a.Key, a => a.Value.ValueKind == JsonValueKind.String ? a.Value.GetString()! : a.Value.GetRawText());
        pending.TrySetResult(result.Success
            ? new CommandResult(CommandOutcome.Succeeded, null, result.State, attributes)
            : new CommandResult(CommandOutcome.Failed, string.IsNullOrWhiteSpace(result.Message) ? "The hub could not carry the command out." : result.Message,
                result.State, attributes));
        return null;
    }

    /// <summary>The stream ended: commands still waiting fail (they were sent, so they may have been carried out).</summary>
    public void Close()
    {
        _closed = true;
        foreach (var id in _pending.Keys)
        {
            if (_pending.TryRemove(id, out var pending))
            {
                pending.TrySetResult(new(CommandOutcome.Failed, "The hub disconnected before answering; the command may have been carried out."));
            }
        }
    }
}
