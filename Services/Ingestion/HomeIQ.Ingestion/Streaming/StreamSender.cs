using System.Net.WebSockets;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using HomeIQ.Ingestion.Infrastructure;

namespace HomeIQ.Ingestion.Streaming;

/// <summary>
/// The server side of a stream's output: one message at a time, a pending slow-down notice written before the next message,
/// and a close that gives up (aborting the connection) when a client that does not read leaves no room for the close frame.
/// </summary>
internal sealed class StreamSender(WebSocket socket)
{
    private static readonly byte[] SlowDown = JsonSerializer.SerializeToUtf8Bytes(new StreamNotice("slow-down"), IngestJsonContext.Default.StreamNotice);
    private readonly SemaphoreSlim _send = new(1, 1);
    private int _slowDownPending;

    /// <summary>Tells the client to slow down: at once when nothing is being written, otherwise just before the next message.</summary>
    public void RequestSlowDown(CancellationToken cancellationToken)
    {
        Volatile.Write(ref _slowDownPending, 1);
        if (_send.Wait(0))
        {
            _ = FlushSlowDownAsync(cancellationToken);
        }
    }

    public async Task SendAsync<T>(T message, JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        await _send.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await WritePendingSlowDownAsync(cancellationToken).ConfigureAwait(false);
            await socket.SendAsync(JsonSerializer.SerializeToUtf8Bytes(message, type), WebSocketMessageType.Text, endOfMessage: true, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _send.Release();
        }
    }

    /// <summary>Sends the close frame if the socket allows it within a second; otherwise aborts the connection.</summary>
    public async Task CloseAsync(WebSocketCloseStatus status, string reason)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        try
        {
            await _send.WaitAsync(timeout.Token).ConfigureAwait(false);
            try
            {
                if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
                {
                    // Close reasons are at most 123 bytes.
                    await socket.CloseOutputAsync(status, reason.Length > 120 ? reason[..120] : reason, timeout.Token).ConfigureAwait(false);
                }
            }
            finally
            {
                _send.Release();
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or ObjectDisposedException)
        {
            socket.Abort();
        }
    }

    /// <summary>Runs holding the send lock, which <see cref="RequestSlowDown"/> took.</summary>
    private async Task FlushSlowDownAsync(CancellationToken cancellationToken)
    {
        try
        {
            await WritePendingSlowDownAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or ObjectDisposedException)
        {
        }
        finally
        {
            _send.Release();
        }
    }

    private async Task WritePendingSlowDownAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _slowDownPending, 0) == 1)
        {
            await socket.SendAsync(SlowDown, WebSocketMessageType.Text, endOfMessage: true, cancellationToken).ConfigureAwait(false);
        }
    }
}
