using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.WebSockets;

namespace HomeIQ.Gateway.Forwarding;

/// <summary>
/// Forwards a WebSocket: it first opens the upstream socket (through service discovery, with the caller's credentials and
/// correlation headers), so a refusal upstream (401, 503 with Retry-After…) reaches the caller as that status; only then does it
/// accept the caller's socket and relay messages both ways, frame by frame. Each direction holds one buffer and awaits each send,
/// so a slow reader on either side slows the other side down instead of filling the gateway's memory.
/// </summary>
internal sealed class WebSocketForwarder(IHttpMessageHandlerFactory handlers, ILogger<WebSocketForwarder> logger)
{
    private const int BufferSize = 16 * 1024;

    private static readonly string[] ForwardedHeaders = ["Authorization", "X-Hub-Key", GatewayEdge.CorrelationHeader, "traceparent", "tracestate"];

    public async Task ForwardAsync(HttpContext context, RouteEntry route)
    {
        var incoming = context.Request;
        using var upstream = new ClientWebSocket();
        upstream.Options.CollectHttpResponseDetails = true;
        upstream.Options.KeepAliveInterval = TimeSpan.FromSeconds(30);
        foreach (var name in ForwardedHeaders)
        {
            if (incoming.Headers[name].ToString() is { Length: > 0 } value)
            {
                upstream.Options.SetRequestHeader(name, value);
            }
        }
        upstream.Options.SetRequestHeader("X-Forwarded-For", context.Connection.RemoteIpAddress?.ToString());
        upstream.Options.SetRequestHeader("X-Forwarded-Proto", incoming.Scheme);
        upstream.Options.SetRequestHeader("X-Forwarded-Host", incoming.Host.ToString());
        foreach (var protocol in context.WebSockets.WebSocketRequestedProtocols)
        {
            upstream.Options.AddSubProtocol(protocol);
        }

        // The forwarder's handler chain (service discovery first), without HttpClient's buffering or timeout, which do not fit an upgrade.
        using var invoker = new HttpMessageInvoker(handlers.CreateHandler(Forwarder.ClientName), disposeHandler: false);
        var target = new Uri($"ws://{route.Service}{incoming.Path}{incoming.QueryString}");
        using (var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted))
        {
            connectTimeout.CancelAfter(TimeSpan.FromSeconds(10));
            try
            {
                await upstream.ConnectAsync(target, invoker, connectTimeout.Token);
            }
            catch (WebSocketException) when (upstream.HttpStatusCode is not (0 or HttpStatusCode.SwitchingProtocols))
            {
                await Refused(context, route, upstream);
                return;
            }
            catch (Exception ex) when (ex is WebSocketException or HttpRequestException
                                           || (ex is OperationCanceledException && !context.RequestAborted.IsCancellationRequested))
            {
                logger.LogWarning("Opening the WebSocket {Path} on {Service} failed: {Message}", incoming.Path, route.Service, ex.Message);
                await Results.Problem(title: "Service unavailable", detail: $"The {route.Service} service is unavailable.", statusCode: 503).ExecuteAsync(context);
                return;
            }
        }

        using var downstream = await context.WebSockets.AcceptWebSocketAsync(upstream.SubProtocol);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        var toUpstream = RelayAsync(downstream, upstream, stop);
        var toDownstream = RelayAsync(upstream, downstream, stop);
        await Task.WhenAll(toUpstream, toDownstream);
    }

    /// <summary>Copies messages from <paramref name="source"/> to <paramref name="destination"/> until one side closes, then closes the other with the same status.</summary>
    private async Task RelayAsync(WebSocket source, WebSocket destination, CancellationTokenSource stop)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            while (true)
            {
                var received = await source.ReceiveAsync(buffer.AsMemory(), stop.Token);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    if (destination.State is WebSocketState.Open or WebSocketState.CloseReceived)
                    {
                        await destination.CloseOutputAsync(source.CloseStatus ?? WebSocketCloseStatus.NormalClosure, source.CloseStatusDescription, stop.Token);
                    }
                    return;
                }
                await destination.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage, stop.Token);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            // One side vanished without a close handshake: end the other side too.
            logger.LogDebug("WebSocket relay ended: {Message}", ex.Message);
            await stop.CancelAsync();
            destination.Abort();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The service refused the upgrade: the caller gets its status (and Retry-After) as ProblemDetails.</summary>
    private static Task Refused(HttpContext context, RouteEntry route, ClientWebSocket upstream)
    {
        var status = (int)upstream.HttpStatusCode;
        if (upstream.HttpResponseHeaders?.TryGetValue("Retry-After", out var retryAfter) == true)
        {
            context.Response.Headers.RetryAfter = retryAfter.FirstOrDefault();
        }
        var detail = status switch
        {
            401 => "The credentials were refused.",
            >= 500 => $"The {route.Service} service could not take the stream; try again later.",
            _ => $"The {route.Service} service refused the stream ({status.ToString(CultureInfo.InvariantCulture)}).",
        };
        return Results.Problem(title: ((HttpStatusCode)status).ToString(), detail: detail, statusCode: status).ExecuteAsync(context);
    }
}
