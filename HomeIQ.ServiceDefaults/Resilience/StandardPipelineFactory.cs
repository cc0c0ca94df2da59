using System.Threading.RateLimiting;
using Polly;

namespace HomeIQ.ServiceDefaults.Resilience;

/// <summary>Builds the standard pipeline from options, outermost first: limiter, total timeout, retry, circuit breaker, attempt timeout.</summary>
internal static class StandardPipelineFactory
{
    /// <summary>Builds a new pipeline with its own limiter and circuit breaker state.</summary>
    public static ResiliencePipeline<HttpResponseMessage> Create(string clientName, HttpStandardResilienceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = options.RateLimiter.PermitLimit,
            QueueLimit = options.RateLimiter.QueueLimit,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });

        return new ResiliencePipelineBuilder<HttpResponseMessage> { Name = $"{clientName}-standard" }
            .AddStrategy(_ => new ConcurrencyLimiterStrategy(limiter), options.RateLimiter)
            .AddTimeout(options.TotalRequestTimeout)
            .AddRetry(options.Retry)
            .AddCircuitBreaker(options.CircuitBreaker)
            .AddTimeout(options.AttemptTimeout)
            .Build();
    }
}
