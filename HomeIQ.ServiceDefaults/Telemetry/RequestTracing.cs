using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace HomeIQ.ServiceDefaults.Telemetry;

/// <summary>
/// Completes ASP.NET Core's own request span, which without the instrumentation package carries no HTTP details:
/// a <c>GET /api/v1/devices/{id}</c> name, the semantic-convention tags (method, path, route, status) and an error status
/// for 5xx. Health probes are marked not recorded, so no exporter sends them.
/// </summary>
public static class RequestTracing
{
    /// <summary>Paths kept out of traces: probes would drown the real requests.</summary>
    public static readonly IReadOnlyList<PathString> UntracedPaths = ["/health", "/alive"];

    /// <summary>Adds the middleware; call it early, right after the exception handler.</summary>
    public static IApplicationBuilder UseRequestTracing(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var activity = Activity.Current;
        if (activity is null)
        {
            await next(context).ConfigureAwait(false);
            return;
        }
        if (UntracedPaths.Any(p => context.Request.Path.StartsWithSegments(p)))
        {
            activity.IsAllDataRequested = false;
            activity.ActivityTraceFlags &= ~ActivityTraceFlags.Recorded;
            await next(context).ConfigureAwait(false);
            return;
        }
        activity.SetTag("http.request.method", context.Request.Method)
            .SetTag("url.path", context.Request.Path.Value)
            .SetTag("url.scheme", context.Request.Scheme)
            .SetTag("server.address", context.Request.Host.Host);
        try
        {
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText;
            activity.DisplayName = route is null ? context.Request.Method : $"{context.Request.Method} {route}";
            activity.SetTag("http.route", route).SetTag("http.response.status_code", context.Response.StatusCode);
            if (context.Response.StatusCode >= 500)
            {
                activity.SetStatus(ActivityStatusCode.Error);
            }
        }
    });
}
