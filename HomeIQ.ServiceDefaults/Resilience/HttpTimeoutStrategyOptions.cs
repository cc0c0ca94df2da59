using Polly.Timeout;

namespace HomeIQ.ServiceDefaults.Resilience;

/// <summary>Options of a timeout step of the standard pipeline (the total request timeout or the attempt timeout).</summary>
public sealed class HttpTimeoutStrategyOptions : TimeoutStrategyOptions
{
}
