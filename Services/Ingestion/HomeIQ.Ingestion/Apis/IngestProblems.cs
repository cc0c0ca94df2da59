using System.Globalization;
using HomeIQ.Ingestion.Pipeline;
using Microsoft.AspNetCore.Http.HttpResults;

namespace HomeIQ.Ingestion.Apis;

/// <summary>The ProblemDetails answers of the ingestion routes.</summary>
internal static class IngestProblems
{
    /// <summary>503 with <c>Retry-After</c> (whole seconds, at least 1): nothing of the request was accepted.</summary>
    public static ProblemHttpResult Unavailable(HttpContext context, IngestUnavailableException unavailable)
    {
        context.Response.Headers.RetryAfter = RetryAfterSeconds(unavailable.RetryAfter).ToString(CultureInfo.InvariantCulture);
        return TypedResults.Problem(title: "Service unavailable", detail: unavailable.Message, statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    public static int RetryAfterSeconds(TimeSpan retryAfter) => Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));

    public static ProblemHttpResult BadRequest(string detail) =>
        TypedResults.Problem(title: "Malformed batch", detail: detail, statusCode: StatusCodes.Status400BadRequest);
}
