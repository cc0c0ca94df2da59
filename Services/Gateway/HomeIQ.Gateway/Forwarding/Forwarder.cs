using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http.Extensions;

namespace HomeIQ.Gateway.Forwarding;

/// <summary>
/// A small reverse proxy on HttpClient (YARP cannot be restored here): bodies are streamed both ways, hop-by-hop headers
/// are dropped, X-Forwarded-* is added, and the trace continues because HttpClient propagates the current activity.
/// The target is the route's discovery name, so replicas are round-robined by service discovery.
/// </summary>
internal sealed class Forwarder(IHttpClientFactory clients, ILogger<Forwarder> logger)
{
    public const string ClientName = "gateway-forwarder";

    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "TE", "Trailer", "Transfer-Encoding", "Upgrade", "Host",
    };

    public async Task ForwardAsync(HttpContext context, RouteEntry route)
    {
        var incoming = context.Request;
        using var request = new HttpRequestMessage(new HttpMethod(incoming.Method), new Uri($"http://{route.Service}{incoming.Path}{incoming.QueryString}"));
        if (incoming.ContentLength > 0 || incoming.Headers.TransferEncoding.Count > 0)
        {
            request.Content = new StreamContent(incoming.Body);
        }
        foreach (var (name, values) in incoming.Headers)
        {
            if (HopByHop.Contains(name) || name.StartsWith("X-Forwarded-", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }
            if (!request.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values))
            {
                request.Content?.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }
        var forwardedFor = string.Join(", ", new[] { incoming.Headers["X-Forwarded-For"].ToString(), context.Connection.RemoteIpAddress?.ToString() }
            .Where(v => !string.IsNullOrEmpty(v)));
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", forwardedFor);
        request.Headers.TryAddWithoutValidation("X-Forwarded-Proto", incoming.Scheme);
        request.Headers.TryAddWithoutValidation("X-Forwarded-Host", incoming.Host.ToString());

        HttpResponseMessage response;
        try
        {
            response = await SendAsync(request, context.RequestAborted);
        }
        catch (HttpRequestException ex)
        {
            logger.LogWarning("Forwarding {Url} to {Service} failed: {Message}", incoming.GetDisplayUrl(), route.Service, ex.Message);
            await Problem(context, 503, $"The {route.Service} service is unavailable.");
            return;
        }
        catch (TaskCanceledException) when (!context.RequestAborted.IsCancellationRequested)
        {
            await Problem(context, 504, $"The {route.Service} service did not answer in time.");
            return;
        }
        using (response)
        {
            context.Response.StatusCode = (int)response.StatusCode;
            foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
            {
                if (!HopByHop.Contains(name))
                {
                    context.Response.Headers[name] = values.ToArray();
                }
            }
            await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
        }
    }

    /// <summary>
    /// Sends the request; when a replica refuses the connection (it is down or restarting), nothing of the request has been sent,
    /// so it is safe to try the next replica discovery gives, even with a streamed body. Other failures are not retried.
    /// </summary>
    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var client = clients.CreateClient(ClientName);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            }
            catch (HttpRequestException ex) when (attempt < MaxConnectAttempts && ex.HttpRequestError == HttpRequestError.ConnectionError
                                                  && ex.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused })
            {
                logger.LogDebug("A replica refused the connection; trying the next one: {Message}", ex.Message);
                request = Clone(request);
            }
        }
    }

    private const int MaxConnectAttempts = 3;

    /// <summary>A request message can be sent once; a new one with the same method, URI, headers and (unread) content.</summary>
    private static HttpRequestMessage Clone(HttpRequestMessage sent)
    {
        var clone = new HttpRequestMessage(sent.Method, sent.RequestUri) { Content = sent.Content, Version = sent.Version };
        foreach (var (name, values) in sent.Headers)
        {
            clone.Headers.TryAddWithoutValidation(name, values);
        }
        return clone;
    }

    private static Task Problem(HttpContext context, int status, string detail)
    {
        if (status == 503)
        {
            // A replica restarting or a service briefly down: tell clients when to try again.
            context.Response.Headers.RetryAfter = "1";
        }
        return Results.Problem(title: ((HttpStatusCode)status).ToString(), detail: detail, statusCode: status).ExecuteAsync(context);
    }
}
