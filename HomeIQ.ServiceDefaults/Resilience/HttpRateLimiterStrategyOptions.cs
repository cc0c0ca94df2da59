using System.ComponentModel.DataAnnotations;
using Polly;

namespace HomeIQ.ServiceDefaults.Resilience;

/// <summary>Options of the outermost step of the standard pipeline: a concurrency limiter (stand-in for Polly.RateLimiting).</summary>
/// <remarks>
/// Unlike Microsoft.Extensions.Http.Resilience (<c>RateLimiter.DefaultRateLimiterOptions.PermitLimit</c>),
/// the limits sit directly on this object: <c>RateLimiter.PermitLimit</c>.
/// </remarks>
public sealed class HttpRateLimiterStrategyOptions : ResilienceStrategyOptions
{
    /// <summary>Creates the options with the standard defaults: 1000 permits, no queue.</summary>
    public HttpRateLimiterStrategyOptions()
    {
        Name = "Standard-RateLimiter";
    }

    /// <summary>Gets or sets how many requests of one client may be in flight at once. Default 1000.</summary>
    [Range(1, int.MaxValue)]
    public int PermitLimit { get; set; } = 1000;

    /// <summary>Gets or sets how many requests may wait for a permit; others are rejected at once. Default 0.</summary>
    [Range(0, int.MaxValue)]
    public int QueueLimit { get; set; }
}
