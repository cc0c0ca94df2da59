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

        var builder = new ResiliencePipelineBuilder<HttpResponseMessage> { Name = $"{clientName}-standard" }
            .AddStrategy(_ => new ConcurrencyLimiterStrategy(limiter), options.RateLimiter)
            .AddTimeout(options.TotalRequestTimeout);

        // Polly requires at least one retry; zero retries means no retry step at all.
        if (options.Retry.MaxRetryAttempts > 0)
        {
            builder.AddRetry(options.Retry);
        }

        return builder
            .AddCircuitBreaker(options.CircuitBreaker)
            .AddTimeout(options.AttemptTimeout)
            .Build();
    }
}
