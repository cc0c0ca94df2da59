using System.Threading.RateLimiting;
using Polly;

namespace HomeIQ.ServiceDefaults.Resilience;

/// <summary>Polly strategy holding a permit of a <see cref="RateLimiter"/> for the whole execution (stand-in for Polly.RateLimiting).</summary>
internal sealed class ConcurrencyLimiterStrategy(RateLimiter limiter) : ResilienceStrategy
{
    /// <summary>Runs the callback while holding a permit; returns a <see cref="RateLimiterRejectedException"/> outcome when none is available.</summary>
    protected override async ValueTask<Outcome<TResult>> ExecuteCore<TResult, TState>(
        Func<ResilienceContext, TState, ValueTask<Outcome<TResult>>> callback,
        ResilienceContext context,
        TState state)
    {
        RateLimitLease lease;
        try
        {
            lease = await limiter.AcquireAsync(1, context.CancellationToken).ConfigureAwait(context.ContinueOnCapturedContext);
        }
        catch (OperationCanceledException e)
        {
            return Outcome.FromException<TResult>(e);
        }

        using (lease)
        {
            if (!lease.IsAcquired)
            {
                TimeSpan? retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : null;
                return Outcome.FromException<TResult>(new RateLimiterRejectedException(retryAfter));
            }

            return await callback(context, state).ConfigureAwait(context.ContinueOnCapturedContext);
        }
    }
}
