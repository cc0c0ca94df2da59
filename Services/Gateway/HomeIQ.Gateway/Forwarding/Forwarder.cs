using HomeIQ.ServiceDefaults.ServiceDiscovery;
using System.Net;
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
            response = await clients.CreateClient(ClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        }
        catch (InvalidOperationException ex) when (ServiceEndpointResolver.IsServiceNotFound(ex, route.Service))
        {
            await Problem(context, 503, $"The {route.Service} service is not deployed.");
            return;
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

    private static Task Problem(HttpContext context, int status, string detail) =>
        Results.Problem(title: ((HttpStatusCode)status).ToString(), detail: detail, statusCode: status).ExecuteAsync(context);
}
