using System.Net.WebSockets;
using System.Text.Json;

namespace HomeIQ.Ingestion.HomeAssistant;

/// <summary>Home Assistant refused the access token (<c>auth_invalid</c>).</summary>
public sealed class HomeAssistantAuthException(string message) : Exception(message);

/// <summary>Home Assistant answered something the documented protocol does not allow here, or refused a command.</summary>
public sealed class HomeAssistantProtocolException(string message) : Exception(message);

/// <summary>
/// One authenticated connection to Home Assistant's WebSocket API (<c>auth_required</c> → <c>auth</c> → <c>auth_ok</c>),
/// with per-connection increasing command ids. Each received frame is parsed without copying; a document is valid until the next receive.
/// </summary>
internal sealed class HomeAssistantConnection : IAsyncDisposable
{
    /// <summary>The largest message accepted (a get_states answer of a very large installation fits).</summary>
    public const int MaxMessageBytes = 64 * 1024 * 1024;

    private readonly ClientWebSocket _socket = new();
    // The session's subscriptions and device commands send from different tasks; a WebSocket takes one send at a time.
    private readonly SemaphoreSlim _send = new(1, 1);
    private byte[] _buffer = new byte[64 * 1024];
    private int _nextId;

    private HomeAssistantConnection()
    {
        _socket.Options.KeepAliveInterval = TimeSpan.FromSeconds(20);
    }

    /// <summary>The version Home Assistant reported.</summary>
    public string? Version { get; private set; }

    /// <summary>Connects and authenticates; throws <see cref="HomeAssistantAuthException"/> on <c>auth_invalid</c>.</summary>
    public static async Task<HomeAssistantConnection> OpenAsync(Uri uri, string accessToken, CancellationToken cancellationToken)
    {
        var connection = new HomeAssistantConnection();
        try
        {
            await connection._socket.ConnectAsync(uri, cancellationToken);
            using (var first = await connection.ReceiveAsync(cancellationToken) ?? throw new WebSocketException("Home Assistant closed the connection before auth_required."))
            {
                if (TypeOf(first.RootElement) != "auth_required")
                {
                    throw new HomeAssistantProtocolException($"Expected auth_required, got {TypeOf(first.RootElement) ?? "a message without a type"}.");
                }
            }
            await connection.SendAsync(new Dictionary<string, object> { ["type"] = "auth", ["access_token"] = accessToken }, cancellationToken);
            using var answer = await connection.ReceiveAsync(cancellationToken) ?? throw new WebSocketException("Home Assistant closed the connection during auth.");
            switch (TypeOf(answer.RootElement))
            {
                case "auth_ok":
                    connection.Version = answer.RootElement.TryGetProperty("ha_version", out var version) ? version.GetString() : null;
                    return connection;
                case "auth_invalid":
                    var reason = answer.RootElement.TryGetProperty("message", out var message) ? message.GetString() : null;
                    throw new HomeAssistantAuthException($"Home Assistant at {uri} rejected the access token (auth_invalid: {reason ?? "no reason given"}). " +
                        "Check HomeAssistant:AccessToken: a long-lived access token of a Home Assistant user, not revoked.");
                case var other:
                    throw new HomeAssistantProtocolException($"Expected auth_ok or auth_invalid, got {other ?? "a message without a type"}.");
            }
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public static string? TypeOf(JsonElement message) =>
        message.ValueKind == JsonValueKind.Object && message.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String ? type.GetString() : null;

    /// <summary>Sends a command with the next id; returns the id.</summary>
    public async Task<int> SendCommandAsync(string type, string? eventType, CancellationToken cancellationToken)
    {
        var id = NextId();
        var command = new Dictionary<string, object> { ["id"] = id, ["type"] = type };
        if (eventType is not null)
        {
            command["event_type"] = eventType;
        }
        await SendAsync(command, cancellationToken);
        return id;
    }

    /// <summary>The next command id of this connection (ids increase per connection, as Home Assistant requires).</summary>
    public int NextId() => Interlocked.Increment(ref _nextId);

    /// <summary>Sends one message; sends from several tasks go one at a time.</summary>
    public async Task SendAsync(Dictionary<string, object> message, CancellationToken cancellationToken)
    {
        await _send.WaitAsync(cancellationToken);
        try
        {
            await _socket.SendAsync(JsonSerializer.SerializeToUtf8Bytes(message), WebSocketMessageType.Text, true, cancellationToken);
        }
        finally
        {
            _send.Release();
        }
    }

    /// <summary>The next message (an object, or an array when the server coalesces), or null when the server closed the connection.</summary>
    public async Task<JsonDocument?> ReceiveAsync(CancellationToken cancellationToken)
    {
        var count = 0;
        while (true)
        {
            if (count == _buffer.Length)
            {
                if (_buffer.Length >= MaxMessageBytes)
                {
                    throw new HomeAssistantProtocolException($"Home Assistant sent a message of more than {MaxMessageBytes / 1048576} MB.");
                }
                Array.Resize(ref _buffer, _buffer.Length * 2);
            }
            var result = await _socket.ReceiveAsync(_buffer.AsMemory(count), cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }
            count += result.Count;
            if (result.EndOfMessage)
            {
                return JsonDocument.Parse(_buffer.AsMemory(0, count));
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The peer is gone already; nothing to close.
            }
        }
        _socket.Dispose();
    }
}
