using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace HomeIQ.Hosting.Dashboard.Telemetry;

/// <summary>The dashboard's JSON query API over a <see cref="TelemetryStore"/>; map it on an authenticated route group.</summary>
public static class TelemetryApi
{
    private const int MaxLimit = 10_000;

    /// <summary>
    /// Maps <c>logs</c>, <c>traces</c>, <c>traces/{traceId}</c>, <c>metrics</c>, <c>metrics/{resource}/{name}</c> and
    /// <c>telemetry/stats</c> relative to <paramref name="api"/> (the dashboard maps it under <c>/api/v1</c>).
    /// </summary>
    public static IEndpointRouteBuilder MapTelemetryApi(this IEndpointRouteBuilder api, TelemetryStore store)
    {
        ArgumentNullException.ThrowIfNull(api);
        ArgumentNullException.ThrowIfNull(store);

        api.MapGet("logs", Results<Ok<IReadOnlyList<LogView>>, ProblemHttpResult> (string? resource, string? level, string? text, string? traceId, int? limit) =>
        {
            LogLevel? minimum = null;
            if (!string.IsNullOrEmpty(level))
            {
                if (!Enum.TryParse<LogLevel>(level, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed) || int.TryParse(level, out _))
                {
                    return TypedResults.Problem($"Unknown level '{level}'. Use Trace, Debug, Information, Warning, Error or Critical.",
                        statusCode: StatusCodes.Status400BadRequest, title: "Bad level");
                }
                minimum = parsed;
            }
            return TypedResults.Ok(store.Logs(new LogQuery(resource, minimum, text, traceId, Clamp(limit, 200))));
        });

        api.MapGet("traces", (string? resource, int? limit) => TypedResults.Ok(store.Traces(resource, Clamp(limit, 100))));

        api.MapGet("traces/{traceId}", Results<Ok<TraceDetail>, ProblemHttpResult> (string traceId) =>
            store.Trace(traceId) is { } trace
                ? TypedResults.Ok(trace)
                : TypedResults.Problem($"Trace '{traceId}' is not held (unknown or evicted).", statusCode: StatusCodes.Status404NotFound, title: "Trace not found"));

        api.MapGet("metrics", (string? resource) => TypedResults.Ok(store.Metrics(resource)));

        api.MapGet("metrics/{resource}/{name}", Results<Ok<MetricDetail>, ProblemHttpResult> (string resource, string name) =>
            store.Metric(resource, name) is { } metric
                ? TypedResults.Ok(metric)
                : TypedResults.Problem($"Metric '{name}' of '{resource}' is not held.", statusCode: StatusCodes.Status404NotFound, title: "Metric not found"));

        api.MapGet("telemetry/stats", () => TypedResults.Ok(store.GetStats()));

        return api;
    }

    private static int Clamp(int? limit, int fallback) => Math.Clamp(limit ?? fallback, 1, MaxLimit);
}
