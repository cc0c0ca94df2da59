using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using HomeIQ.ServiceDefaults.Authentication;
using Microsoft.AspNetCore.RateLimiting;
using Yarp.ReverseProxy.Model;

namespace HomeIQ.Gateway.Edge;

/// <summary>
/// Token buckets on ASP.NET Core's rate limiter: one per user (token subject); on hub routes one per hub key (hashed) and,
/// chained with it, one per client address, so a client inventing a new key for every request still meets a limit;
/// elsewhere one per client address for anonymous calls. A refused request gets 429 with Retry-After.
/// </summary>
internal static class EdgeRateLimits
{
    /// <summary>The route metadata that marks a hub route (<c>"Metadata": { "HubKeys": "true" }</c> in the YARP route).</summary>
    public const string HubKeysMetadata = "HubKeys";

    public static IServiceCollection AddEdgeRateLimits(this IServiceCollection services, RateLimitSettings limits) =>
        services.AddRateLimiter(options =>
        {
            options.GlobalLimiter = PartitionedRateLimiter.CreateChained(
                PartitionedRateLimiter.Create<HttpContext, string>(context => CallerBucket(context, limits)),
                PartitionedRateLimiter.Create<HttpContext, string>(context => IsHubRoute(context)
                    ? Bucket("hub-address:" + context.Connection.RemoteIpAddress, limits.PerAddressOnHubRoutesPerSecond, limits.PerAddressOnHubRoutesBurst)
                    : RateLimitPartition.GetNoLimiter("")));
            options.OnRejected = async (rejected, cancellationToken) =>
            {
                var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
                var context = rejected.HttpContext;
                context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                await Results.Problem(title: "Too many requests", detail: "Slow down; see Retry-After.", statusCode: StatusCodes.Status429TooManyRequests)
                    .ExecuteAsync(context);
            };
        });

    private static RateLimitPartition<string> CallerBucket(HttpContext context, RateLimitSettings limits)
    {
        if (context.User.GetUserId() is { } user)
        {
            return Bucket("user:" + user, limits.PerUserPerSecond, limits.PerUserBurst);
        }
        var hubKey = context.Request.Headers["X-Hub-Key"].ToString();
        if (hubKey.Length > 0 && IsHubRoute(context))
        {
            return Bucket("hub:" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(hubKey))), limits.PerHubPerSecond, limits.PerHubBurst);
        }
        return Bucket("ip:" + context.Connection.RemoteIpAddress, limits.AnonymousPerSecond, limits.AnonymousBurst);
    }

    private static bool IsHubRoute(HttpContext context) =>
        context.GetEndpoint()?.Metadata.GetMetadata<RouteModel>()?.Config.Metadata?.TryGetValue(HubKeysMetadata, out var value) == true
        && bool.TryParse(value, out var hub) && hub;

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
