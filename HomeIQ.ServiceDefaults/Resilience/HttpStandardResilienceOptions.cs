namespace HomeIQ.ServiceDefaults.Resilience;

/// <summary>Options of the standard resilience pipeline of one named HttpClient (defaults of Microsoft.Extensions.Http.Resilience).</summary>
/// <remarks>
/// Named options keyed by the HttpClient name ("" for the unnamed client). Set global defaults for every client with
/// <c>services.ConfigureAll&lt;HttpStandardResilienceOptions&gt;(…)</c>: a plain <c>services.Configure&lt;T&gt;(…)</c> reaches
/// only the unnamed client. Override one client with <c>AddStandardResilienceHandler(configure)</c> or
/// <c>ConfigureStandardResilience(…)</c>, which run as post-configuration and so win over any global setting.
/// </remarks>
public sealed class HttpStandardResilienceOptions
{
    /// <summary>Gets or sets whether the client uses the pipeline; false sends requests straight through. Default true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Gets or sets the outermost step: the concurrency limiter (1000 permits, no queue).</summary>
    public HttpRateLimiterStrategyOptions RateLimiter { get; set; } = new();

    /// <summary>Gets or sets the timeout of the whole request, retries and delays included (30 s).</summary>
    public HttpTimeoutStrategyOptions TotalRequestTimeout { get; set; } = new()
    {
        Name = "Standard-TotalRequestTimeout",
        Timeout = TimeSpan.FromSeconds(30),
    };

    /// <summary>Gets or sets the retry of transient outcomes (3 retries, exponential backoff from 2 s with jitter, Retry-After honoured).</summary>
    public HttpRetryStrategyOptions Retry { get; set; } = new();

    /// <summary>Gets or sets the circuit breaker (failure ratio 0.1, minimum throughput 100, sampling 30 s, break 5 s).</summary>
    public HttpCircuitBreakerStrategyOptions CircuitBreaker { get; set; } = new();

    /// <summary>Gets or sets the timeout of each single attempt (10 s).</summary>
    public HttpTimeoutStrategyOptions AttemptTimeout { get; set; } = new()
    {
        Name = "Standard-AttemptTimeout",
        Timeout = TimeSpan.FromSeconds(10),
    };
}
