using System.Net;
using Polly;
using Polly.Timeout;

namespace HomeIQ.ServiceDefaults.Resilience;

/// <summary>Decides which outcomes of an HTTP attempt are transient: retried, and counted as failures by the circuit breaker.</summary>
internal static class HttpTransientOutcomes
{
    /// <summary>
    /// Transient: status 5xx, 408, 429; <see cref="HttpRequestException"/>; <see cref="TimeoutRejectedException"/> (attempt timeout).
    /// Not transient: other 4xx, and cancellation by the caller (an <see cref="OperationCanceledException"/>).
    /// </summary>
    public static bool IsTransient(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Exception: HttpRequestException or TimeoutRejectedException } => true,
        { Exception: null, Result: { } response } => IsTransientStatus(response.StatusCode),
        _ => false,
    };

    private static bool IsTransientStatus(HttpStatusCode status) =>
        (int)status >= 500 || status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests;
}
