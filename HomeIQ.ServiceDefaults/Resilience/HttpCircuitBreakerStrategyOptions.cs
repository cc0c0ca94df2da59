using Polly.CircuitBreaker;

namespace HomeIQ.ServiceDefaults.Resilience;

/// <summary>Options of the standard pipeline's circuit breaker; it counts transient outcomes as failures.</summary>
/// <remarks>Polly's defaults are the standard ones: failure ratio 0.1, minimum throughput 100, sampling 30 s, break 5 s.</remarks>
public sealed class HttpCircuitBreakerStrategyOptions : CircuitBreakerStrategyOptions<HttpResponseMessage>
{
    /// <summary>Creates the options with the standard defaults.</summary>
    public HttpCircuitBreakerStrategyOptions()
    {
        Name = "Standard-CircuitBreaker";
        FailureRatio = 0.1;
        MinimumThroughput = 100;
        SamplingDuration = TimeSpan.FromSeconds(30);
        BreakDuration = TimeSpan.FromSeconds(5);
        ShouldHandle = static args => ValueTask.FromResult(HttpTransientOutcomes.IsTransient(args.Outcome));
    }
}
