using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text.Json;

namespace HomeIQ.Ingestion.HomeAssistant;

/// <summary>How a <c>call_service</c> ended: not sent (no connection), Home Assistant's success, or its error in words.</summary>
internal readonly record struct ServiceCallResult(bool Sent, bool Success, string? Error);

/// <summary>
/// Device commands through the bridge's current connection: <c>call_service</c> with the next command id, answered by Home Assistant's
/// <c>result</c> message for that id, which the session hands over (<see cref="TryComplete"/>). A connection that ends fails the calls
/// still waiting on it.
/// </summary>
internal sealed class HomeAssistantCommands
{
    private readonly ConcurrentDictionary<int, TaskCompletionSource<ServiceCallResult>> _pending = new();
    private volatile HomeAssistantConnection? _connection;

    internal void Attach(HomeAssistantConnection connection) => _connection = connection;

    internal void Detach(HomeAssistantConnection connection)
    {
        if (Interlocked.CompareExchange(ref _connection, null, connection) != connection)
        {
            return;
        }
        foreach (var id in _pending.Keys)
        {
            if (_pending.TryRemove(id, out var pending))
            {
                pending.TrySetResult(new(true, false, "The connection to Home Assistant ended before it answered; the command may have been carried out."));
            }
        }
    }

    /// <summary>Completes the call waiting for this <c>result</c>; false when the id is not a device command's.</summary>
    internal bool TryComplete(int id, JsonElement result)
    {
        if (!_pending.TryRemove(id, out var pending))
        {
            return false;
        }
        if (result.TryGetProperty("success", out var success) && success.ValueKind == JsonValueKind.True)
        {
            pending.TrySetResult(new(true, true, null));
        }
        else
        {
            var error = result.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.Object
                && e.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String
                ? message.GetString()
                : null;
            pending.TrySetResult(new(true, false, $"Home Assistant refused the call: {error ?? "no reason given"}"));
        }
        return true;
    }

    /// <summary>
    /// Calls <paramref name="domain"/>.<paramref name="service"/> on <paramref name="entityId"/> with <paramref name="data"/> as service data and
    /// waits for Home Assistant's answer until <paramref name="cancellationToken"/> (the command's deadline) is cancelled.
    /// </summary>
    public async Task<ServiceCallResult> CallServiceAsync(string domain, string service, string entityId, IReadOnlyDictionary<string, JsonElement>? data,
        CancellationToken cancellationToken)
    {
        if (_connection is not { } connection)
        {
            return new(false, false, "The Home Assistant bridge is not connected.");
        }
        var id = connection.NextId();
        var pending = new TaskCompletionSource<ServiceCallResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = pending;
        try
        {
            var message = new Dictionary<string, object>
            {
                ["id"] = id,
                ["type"] = "call_service",
                ["domain"] = domain,
                ["service"] = service,
                ["service_data"] = data ?? new Dictionary<string, JsonElement>(),
                ["target"] = new Dictionary<string, string> { ["entity_id"] = entityId },
            };
            try
            {
                await connection.SendAsync(message, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException)
            {
                return new(false, false, "The connection to Home Assistant broke; nothing was sent.");
            }
            return await pending.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }
}
