using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace HomeIQ.ServiceDefaults.Errors;

/// <summary>
/// Every HomeIQ error body is a ProblemDetails, but <c>TypedResults.NotFound(problem)</c> and its kin label it plain JSON:
/// a JSON body of an error status is sent as <c>application/problem+json</c>, so clients can tell an error from data.
/// </summary>
public static class ProblemContentType
{
    /// <summary>Adds the relabelling; call it before the endpoints.</summary>
    public static IApplicationBuilder UseProblemContentType(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        context.Response.OnStarting(() =>
        {
            if (context.Response.StatusCode >= 400 && context.Response.ContentType?.StartsWith("application/json", StringComparison.Ordinal) == true)
            {
                context.Response.ContentType = "application/problem+json";
            }
            return Task.CompletedTask;
        });
        return next(context);
    });
}
