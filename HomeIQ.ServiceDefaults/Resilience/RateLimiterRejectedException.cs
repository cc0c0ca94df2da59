using Polly;

namespace HomeIQ.ServiceDefaults.Resilience;

/// <summary>Thrown when the standard pipeline's concurrency limiter has no permit left for a request (mirrors Polly.RateLimiting's exception).</summary>
public sealed class RateLimiterRejectedException : ExecutionRejectedException
{
    /// <summary>Creates the exception with the default message.</summary>
    public RateLimiterRejectedException()
        : base("The operation could not be executed because it was rejected by the concurrency limiter.")
    {
    }

    /// <summary>Creates the exception with the limiter's retry-after hint, if it gave one.</summary>
    public RateLimiterRejectedException(TimeSpan? retryAfter)
        : this()
    {
        RetryAfter = retryAfter;
    }

    /// <summary>Creates the exception with a message.</summary>
    public RateLimiterRejectedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    public RateLimiterRejectedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Gets how long the limiter suggests waiting before trying again, when it knows.</summary>
    public TimeSpan? RetryAfter { get; }
}
