using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using HomeIQ.Tests.Identity;
using HomeIQ.Tests.Integration;

namespace HomeIQ.Tests.Gateway;

/// <summary>WebSockets through the gateway, against the echo service's socket on the /api/v1/echo/** route (which needs a user token).</summary>
public sealed class GatewayWebSocketTests(AppHostFixture fixture)
{
    private async Task<string> TokenAsync()
    {
        var tokens = await new IdentityClient(fixture.App.CreateHttpClient("gateway")).RegisterAndLoginAsync(IdentityClient.NewEmail());
        return tokens.GetProperty("accessToken").GetString()!;
    }

    private Uri Socket(string query = "") =>
        new UriBuilder(fixture.App.GetEndpoint("gateway")) { Scheme = "ws", Path = "/api/v1/echo/ws", Query = query }.Uri;

    private static async Task<(WebSocketMessageType Type, byte[] Data)> ReceiveMessageAsync(WebSocket socket, CancellationToken ct)
    {
        using var message = new MemoryStream();
        var buffer = new byte[8192];
        while (true)
        {
            var received = await socket.ReceiveAsync(buffer, ct);
            message.Write(buffer, 0, received.Count);
            if (received.EndOfMessage || received.MessageType == WebSocketMessageType.Close)
            {
                return (received.MessageType, message.ToArray());
            }
        }
    }

    [Fact]
    public async Task MessagesOfEveryKindAndSizeAreRelayedBothWaysWithTheCallersHeaders()
    {
        var ct = TestApps.Timeout(TimeSpan.FromSeconds(60));
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", "Bearer " + await TokenAsync());
        socket.Options.SetRequestHeader("X-Correlation-Id", "ws-correlation-1");
        await socket.ConnectAsync(Socket(), ct);

        var (_, headersJson) = await ReceiveMessageAsync(socket, ct);
        var headers = JsonSerializer.Deserialize<Dictionary<string, string>>(headersJson)!;
        Assert.Equal("ws-correlation-1", headers["X-Correlation-Id"]);
        Assert.StartsWith("Bearer ", headers["Authorization"], StringComparison.Ordinal);
        // Services apply X-Forwarded-* themselves (ASPNETCORE_FORWARDEDHEADERS_ENABLED) and keep the originals as X-Original-*.
        Assert.Contains("127.0.0.1", headers.GetValueOrDefault("X-Forwarded-For") ?? headers["X-Original-For"], StringComparison.Ordinal);

        await socket.SendAsync(Encoding.UTF8.GetBytes("hello through the gateway"), WebSocketMessageType.Text, true, ct);
        var (type, text) = await ReceiveMessageAsync(socket, ct);
        Assert.Equal(WebSocketMessageType.Text, type);
        Assert.Equal("hello through the gateway", Encoding.UTF8.GetString(text));

        // Larger than the relay's buffer, sent in several frames: it must arrive whole and unchanged.
        var large = new byte[200_000];
        Random.Shared.NextBytes(large);
        for (var offset = 0; offset < large.Length; offset += 50_000)
        {
            await socket.SendAsync(large.AsMemory(offset, 50_000), WebSocketMessageType.Binary, offset + 50_000 == large.Length, ct);
        }
        (type, var echoed) = await ReceiveMessageAsync(socket, ct);
        Assert.Equal(WebSocketMessageType.Binary, type);
        Assert.Equal(large, echoed);

        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", ct);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.CloseStatus);
    }

    [Fact]
    public async Task TheServicesCloseStatusReachesTheCaller()
    {
        var ct = TestApps.Timeout(TimeSpan.FromSeconds(60));
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", "Bearer " + await TokenAsync());
        await socket.ConnectAsync(Socket(), ct);
        await ReceiveMessageAsync(socket, ct);

        await socket.SendAsync(Encoding.UTF8.GetBytes("close:4013"), WebSocketMessageType.Text, true, ct);
        var (type, _) = await ReceiveMessageAsync(socket, ct);

        Assert.Equal(WebSocketMessageType.Close, type);
        Assert.Equal(4013, (int)socket.CloseStatus!.Value);
    }

    [Fact]
    public async Task AnUpgradeTheServiceRefusesReachesTheCallerWithItsStatusAndRetryAfter()
    {
        var ct = TestApps.Timeout(TimeSpan.FromSeconds(60));
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.SetRequestHeader("Authorization", "Bearer " + await TokenAsync());

        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(Socket("status=503&retryAfter=7"), ct));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, socket.HttpStatusCode);
        Assert.Equal("7", socket.HttpResponseHeaders!["Retry-After"].Single());
    }

    [Fact]
    public async Task AnUpgradeWithoutATokenIsRefusedAtTheEdge()
    {
        var ct = TestApps.Timeout(TimeSpan.FromSeconds(60));
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;

        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(Socket(), ct));

        Assert.Equal(HttpStatusCode.Unauthorized, socket.HttpStatusCode);
    }
}
