using Polly;
using Polly.Retry;

namespace HomeIQ.ServiceDefaults.Resilience;

/// <summary>Options of the standard pipeline's retry: 3 retries of transient outcomes, exponential backoff from 2 s with jitter, honouring Retry-After.</summary>
/// <remarks>Unlike plain Polly, <c>MaxRetryAttempts = 0</c> is allowed and leaves the retry out of the pipeline.</remarks>
public sealed class HttpRetryStrategyOptions : RetryStrategyOptions<HttpResponseMessage>
{
    private bool _shouldRetryAfterHeader;

    /// <summary>Creates the options with the standard defaults.</summary>
    public HttpRetryStrategyOptions()
    {
        Name = "Standard-Retry";
        MaxRetryAttempts = 3;
        BackoffType = DelayBackoffType.Exponential;
        UseJitter = true;
        Delay = TimeSpan.FromSeconds(2);
        ShouldHandle = static args => ValueTask.FromResult(HttpTransientOutcomes.IsTransient(args.Outcome));
        ShouldRetryAfterHeader = true;
    }

    /// <summary>
    /// Gets or sets whether a <c>Retry-After</c> response header (delta-seconds or HTTP-date) sets the delay before the next attempt.
    /// Setting it replaces <see cref="RetryStrategyOptions{TResult}.DelayGenerator"/> (as in Microsoft.Extensions.Http.Resilience). Default true.
    /// </summary>
    public bool ShouldRetryAfterHeader
    {
        get => _shouldRetryAfterHeader;
        set
        {
            _shouldRetryAfterHeader = value;
            DelayGenerator = value ? RetryAfterDelay.Generate : null;
        }
    }
}
