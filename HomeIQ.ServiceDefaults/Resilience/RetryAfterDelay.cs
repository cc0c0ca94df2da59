using Polly.Retry;

namespace HomeIQ.ServiceDefaults.Resilience;

/// <summary>Reads the delay a server asks for in its <c>Retry-After</c> header.</summary>
internal static class RetryAfterDelay
{
    /// <summary>Polly delay generator: the Retry-After delay, or null to fall back to the backoff.</summary>
    public static ValueTask<TimeSpan?> Generate(RetryDelayGeneratorArguments<HttpResponseMessage> args) =>
        ValueTask.FromResult(From(args.Outcome.Result, TimeProvider.System));

    /// <summary>The delay from a response's Retry-After header (delta-seconds or HTTP-date, never negative), or null when it has none.</summary>
    public static TimeSpan? From(HttpResponseMessage? response, TimeProvider timeProvider)
    {
        var retryAfter = response?.Headers.RetryAfter;
        if (retryAfter?.Delta is { } delta)
        {
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }

        if (retryAfter?.Date is { } date)
        {
            var wait = date - timeProvider.GetUtcNow();
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }

        return null;
    }
}
