using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using HomeIQ.ServiceDefaults.Authentication;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace HomeIQ.Gateway.Forwarding;

/// <summary>
/// What the gateway does before forwarding: correlation id, CORS, per-caller token-bucket rate limits answering
/// 429 with Retry-After, the request size cap, and the edge token check for every route not marked anonymous.
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
            if (id.Length is 0 or > 128)
            {
                id = Guid.NewGuid().ToString("N");
                context.Request.Headers[CorrelationHeader] = id;
            }
            context.Response.Headers[CorrelationHeader] = id;
            System.Diagnostics.Activity.Current?.SetTag("homeiq.correlation_id", id);
            await next(context);
        });
        app.UseCors(CorsPolicy);
        var limiter = CreateLimiter(app.Services.GetRequiredService<IOptions<GatewayOptions>>().Value.RateLimits, app.Services.GetRequiredService<RouteTable>());
        app.Use(async (context, next) =>
        {
            using var lease = await limiter.AcquireAsync(context, 1, context.RequestAborted);
            if (!lease.IsAcquired)
            {
                var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
                context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                await Results.Problem(title: "Too many requests", detail: "Slow down; see Retry-After.", statusCode: 429).ExecuteAsync(context);
                return;
            }
            await next(context);
        });
        return app;
    }

    public static IEndpointRouteBuilder MapForwardedRoutes(this IEndpointRouteBuilder app)
    {
        app.Map("/{**path}", async (HttpContext context, RouteTable routes, Forwarder forwarder, WebSocketForwarder webSockets, IOptions<GatewayOptions> options) =>
        {
            if (routes.Match(context.Request.Path) is not { } route)
            {
                await Results.Problem(title: "Not found", detail: "No service serves this path.", statusCode: 404).ExecuteAsync(context);
                return;
            }
            if (!route.Anonymous && context.User.Identity?.IsAuthenticated != true)
            {
                await context.ChallengeAsync(JwtBearerHandler.SchemeName);
                return;
            }
            if (!route.Anonymous && !IsInCallersHome(context))
            {
                // Checked at the edge too: an outsider learns nothing, not even which services a home's routes lead to.
                await Results.Problem(title: "Not found", detail: "There is no such home.", statusCode: 404).ExecuteAsync(context);
                return;
            }
            if (context.Request.ContentLength > options.Value.MaxRequestBodyBytes)
            {
                await Results.Problem(title: "Payload too large", detail: $"Requests are limited to {options.Value.MaxRequestBodyBytes} bytes.", statusCode: 413)
                    .ExecuteAsync(context);
                return;
            }
            await (context.WebSockets.IsWebSocketRequest ? webSockets.ForwardAsync(context, route) : forwarder.ForwardAsync(context, route));
        }).AllowAnonymous();
        return app;
    }

    /// <summary>True unless the path is under <c>/api/v1/homes/{homeId}/</c> and the caller's token has no role in that home.</summary>
    private static bool IsInCallersHome(HttpContext context)
    {
        var segments = context.Request.Path.Value?.Split('/', StringSplitOptions.RemoveEmptyEntries) ?? [];
        if (segments.Length < 4 || !segments[..3].SequenceEqual(["api", "v1", "homes"], StringComparer.OrdinalIgnoreCase))
        {
            return true;
        }
        return Guid.TryParse(segments[3], out var homeId) && context.User.GetHomeRole(homeId) is not null;
    }

    /// <summary>One token bucket per user (token subject), per hub key (hashed) on hub routes, or per client address.</summary>
    private static PartitionedRateLimiter<HttpContext> CreateLimiter(RateLimitSettings limits, RouteTable routes) =>
        PartitionedRateLimiter.Create<HttpContext, string>(context =>
        {
            if (context.User.GetUserId() is { } user)
            {
                return Bucket("user:" + user, limits.PerUserPerSecond, limits.PerUserBurst);
            }
            var hubKey = context.Request.Headers["X-Hub-Key"].ToString();
            if (hubKey.Length > 0 && routes.Match(context.Request.Path)?.HubKeys == true)
            {
                return Bucket("hub:" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(hubKey))), limits.PerHubPerSecond, limits.PerHubBurst);
            }
            return Bucket("ip:" + context.Connection.RemoteIpAddress, limits.AnonymousPerSecond, limits.AnonymousBurst);
        });

    private static RateLimitPartition<string> Bucket(string key, int perSecond, int burst) =>
        RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = Math.Max(1, burst),
            TokensPerPeriod = Math.Max(1, perSecond),
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        });
}
