using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace HomeIQ.Tests.Ingestion;

/// <summary>Sends batches and stream frames the way a hub does.</summary>
internal static class IngestClient
{
    public static object Reading(Guid deviceId, string metric, double value, string unit, DateTimeOffset? timestamp = null, long? sequence = null) =>
        sequence is null
            ? new { deviceId, metric, value, unit, timestamp = timestamp ?? DateTimeOffset.UtcNow }
            : new { deviceId, metric, value, unit, timestamp = timestamp ?? DateTimeOffset.UtcNow, sequence };

    public static Task<HttpResponseMessage> PostAsync(HttpClient http, string? hubKey, object body) =>
        PostRawAsync(http, hubKey, JsonSerializer.Serialize(body, JsonSerializerOptions.Web));

    public static async Task<HttpResponseMessage> PostRawAsync(HttpClient http, string? hubKey, string body, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/ingest/readings")
        {
            Content = new StringContent(body, Encoding.UTF8),
        };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        if (hubKey is not null)
        {
            request.Headers.Add("X-Hub-Key", hubKey);
        }
        return await http.SendAsync(request, TestContext.Current.CancellationToken);
    }

    public static async Task<ClientWebSocket> ConnectAsync(Uri uri, string hubKey)
    {
        var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("X-Hub-Key", hubKey);
        await socket.ConnectAsync(uri, TestContext.Current.CancellationToken);
        return socket;
    }

    /// <summary>
    /// Connects and sends one reading (a stream frame with sequence 1), returning once it is acked. Ingestion registers a hub for
    /// commands before it reads the hub's first frame, so after the ack a command for the home reaches this connection; in the moment
    /// between the upgrade and that registration, another replica may answer a command "not connected".
    /// </summary>
    public static async Task<ClientWebSocket> ConnectRegisteredAsync(Uri uri, string hubKey, Guid deviceId, string metric, double value, string unit)
    {
        var socket = await ConnectAsync(uri, hubKey);
        await SendAsync(socket, new { readings = new[] { Reading(deviceId, metric, value, unit, DateTimeOffset.UtcNow, 1) } });
        var ack = await ReceiveAsync(socket) ?? throw new InvalidOperationException("The server closed the stream.");
        Assert.True(ack.GetProperty("type").GetString() == "ack", $"The hub's first reading was not acked: {ack}");
        return socket;
    }

    public static Task SendAsync(WebSocket socket, object frame) => SendTextAsync(socket, JsonSerializer.Serialize(frame, JsonSerializerOptions.Web));

    public static Task SendTextAsync(WebSocket socket, string text) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, TestContext.Current.CancellationToken);

    /// <summary>The next message, or null when the server closed.</summary>
    public static async Task<JsonElement?> ReceiveAsync(WebSocket socket, TimeSpan? wait = null)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(wait ?? TimeSpan.FromSeconds(20));
        var buffer = new ArrayBufferWriter();
        while (true)
        {
            var memory = buffer.GetMemory(64 * 1024);
            var result = await socket.ReceiveAsync(memory, timeout.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }
            buffer.Advance(result.Count);
            if (result.EndOfMessage)
            {
                return JsonDocument.Parse(buffer.WrittenMemory).RootElement.Clone();
            }
        }
    }

    private sealed class ArrayBufferWriter
    {
        private byte[] _buffer = new byte[64 * 1024];
        private int _written;

        public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _written);

        public Memory<byte> GetMemory(int size)
        {
            if (_buffer.Length - _written < size)
            {
                Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _written + size));
            }
            return _buffer.AsMemory(_written);
        }

        public void Advance(int count) => _written += count;
    }
}
