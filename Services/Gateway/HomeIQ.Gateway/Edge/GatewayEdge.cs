using Microsoft.Extensions.Options;

namespace HomeIQ.Gateway.Edge;

/// <summary>
/// What the gateway does before YARP forwards a request: the correlation id, CORS and the request size cap (<see cref="BodySizeLimit"/>).
/// Token checks are the routes' authorization policies; rate limits are <see cref="EdgeRateLimits"/>.
/// </summary>
internal static class GatewayEdge
{
    public const string CorrelationHeader = "X-Correlation-Id";
    public const string CorsPolicy = "gateway";

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
        app.UseBodySizeLimit(app.Services.GetRequiredService<IOptions<GatewayOptions>>().Value.MaxRequestBodyBytes);
        return app;
    }
}
