using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace HomeIQ.Gateway.Edge;

/// <summary>
/// What the gateway does before YARP forwards a request: the correlation id, CORS and the request size cap.
/// Token checks are the routes' authorization policies; rate limits are <see cref="EdgeRateLimits"/>.
/// </summary>
internal static class GatewayEdge
{
    public const string CorrelationHeader = "X-Correlation-Id";
    public const string CorsPolicy = "gateway";

    /// <summary>How much of an oversize body is read and discarded after the 413, so the client reads the answer instead of a reset.</summary>
    private const long DrainLimitBytes = 64 * 1024 * 1024;

    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(10);

    public static WebApplication UseGatewayEdge(this WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            var id = context.Request.Headers[CorrelationHeader].ToString();
            if (id.Length is 0 or > 128 || id.Any(c => c is < '!' or > '~')) // it is echoed in a response header: visible ASCII only
            {
                id = Guid.NewGuid().ToString("N");
                context.Request.Headers[CorrelationHeader] = id;
            }
            context.Response.Headers[CorrelationHeader] = id;
            System.Diagnostics.Activity.Current?.SetTag("homeiq.correlation_id", id);
            await next(context);
        });
        app.UseCors(CorsPolicy);
        var maxBody = app.Services.GetRequiredService<IOptions<GatewayOptions>>().Value.MaxRequestBodyBytes;
        app.Use(async (context, next) =>
        {
            if (context.Request.ContentLength > maxBody)
            {
                await RefuseOversizeBodyAsync(context, maxBody);
                return;
            }
            await next(context);
        });
        return app;
    }

    /// <summary>
    /// Answers 413 at once, then reads and discards the body the client is still sending (bounded in size and time). Closing
    /// with unread data in the socket would make the kernel reset the connection, and the client would see the reset, not the 413.
    /// </summary>
    private static async Task RefuseOversizeBodyAsync(HttpContext context, long maxBody)
    {
        var expectsContinue = context.Request.Headers.Expect.ToString().Contains("100-continue", StringComparison.OrdinalIgnoreCase);
        if (!expectsContinue && context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = null;
        }
        else
        {
            expectsContinue = true; // nothing to drain: the client waits for a go-ahead it never gets
        }
        context.Response.Headers.Connection = "close";
        await Results.Problem(title: "Payload too large", detail: $"Requests are limited to {maxBody} bytes.", statusCode: StatusCodes.Status413PayloadTooLarge)
            .ExecuteAsync(context);
        if (expectsContinue)
        {
            return;
        }
        await context.Response.CompleteAsync();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        timeout.CancelAfter(DrainTimeout);
        var buffer = new byte[64 * 1024];
        long drained = 0;
        try
        {
            int read;
            while (drained < DrainLimitBytes && (read = await context.Request.Body.ReadAsync(buffer, timeout.Token)) > 0)
            {
                drained += read;
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or BadHttpRequestException)
        {
            // The client gave up or is too slow: the connection closes either way.
        }
    }
}
