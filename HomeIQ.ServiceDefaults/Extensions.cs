using System.Diagnostics;
using HomeIQ.ServiceDefaults.Errors;
using HomeIQ.ServiceDefaults.Health;
using HomeIQ.ServiceDefaults.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Http.Resilience;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The service defaults every HomeIQ service calls, in the shape of Aspire's ServiceDefaults project:
/// <c>builder.AddServiceDefaults()</c> then <c>app.MapDefaultEndpoints()</c>.
/// </summary>
public static class ServiceDefaultsExtensions
{
    /// <summary>The default limit on request bodies; override with <c>Kestrel:Limits:MaxRequestBodySize</c>.</summary>
    public const long DefaultMaxRequestBodySize = 4 * 1024 * 1024;

    /// <summary>
    /// Telemetry, health checks, service discovery and the standard resilience handler on every HttpClient,
    /// ProblemDetails with trace ids and request size limits. Works for web apps and for
    /// worker services (HostApplicationBuilder), which simply have no endpoints to map.
    /// </summary>
    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();
        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            // Resilience outside, discovery inside: every retry resolves the service again and may reach another replica.
            // Added here the handler is one pipeline for every client of the process; by authority (http://devices), each service
            // gets its own circuit breaker and limiter, so one service failing does not cut the calls to the others.
            http.AddStandardResilienceHandler().SelectPipelineByAuthority();
            http.AddServiceDiscovery();
        });
        builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            context.ProblemDetails.Extensions["traceId"] = Activity.Current?.TraceId.ToString() ?? context.HttpContext.TraceIdentifier;
            if (context.Exception is Microsoft.AspNetCore.Http.BadHttpRequestException bad)
            {
                // The framework's own words about the request ("Failed to read parameter … as JSON") are safe and useful to the caller.
                context.ProblemDetails.Detail = bad.Message;
            }
            else if (context.Exception is { } exception && HomeIQ.ServiceDefaults.Errors.DependencyFailures.IsTransient(exception))
            {
                context.ProblemDetails.Title = "Service unavailable";
                context.ProblemDetails.Detail = "A backing service is briefly unavailable; try again shortly.";
                context.HttpContext.Response.Headers.RetryAfter = HomeIQ.ServiceDefaults.Errors.DependencyFailures.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
        });
        // Malformed JSON, a wrong type, an oversize body: the request's fault, so its 4xx, never a 500.
        // A database restarting or a dropped connection: 503 with Retry-After, so clients retry instead of giving up.
        builder.Services.Configure<ExceptionHandlerOptions>(options =>
        {
            options.StatusCodeSelector = exception => exception switch
            {
                Microsoft.AspNetCore.Http.BadHttpRequestException bad => bad.StatusCode,
                _ when HomeIQ.ServiceDefaults.Errors.DependencyFailures.IsTransient(exception) => StatusCodes.Status503ServiceUnavailable,
                _ => StatusCodes.Status500InternalServerError,
            };
            // A client's mistake is not a server error: no error log, no stack trace, no error.type on the request metric.
            options.SuppressDiagnosticsCallback = context => context.Exception is Microsoft.AspNetCore.Http.BadHttpRequestException;
        });
        builder.Services.Configure<KestrelServerOptions>(options =>
            options.Limits.MaxRequestBodySize = builder.Configuration.GetValue("Kestrel:Limits:MaxRequestBodySize", DefaultMaxRequestBodySize));
        builder.Services.AddOpenApi();
        // Forwarded headers need nothing here: ASP.NET Core applies them itself when ASPNETCORE_FORWARDEDHEADERS_ENABLED=true.
        return builder;
    }

    /// <summary>Adds the <c>self</c> liveness check; backing-server checks come with AddNpgsqlDataSource, AddRedisClient and AddRabbitMQClient.</summary>
    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddHealthChecks().AddCheck("self", () => HealthCheckResult.Healthy(), [HealthEndpoints.LiveTag]);
        return builder;
    }

    /// <summary>
    /// Errors as ProblemDetails, the OpenAPI document at
    /// <c>/openapi/v1.json</c>, and <c>/health</c>, <c>/alive</c>, <c>/health/ready</c>,
    /// <c>/health/live</c> in every environment. Call it first after <c>Build()</c>.
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseRequestCharsetCheck();
        app.UseProblemContentType();
        app.MapHealthEndpoints(app.Environment);
        app.MapOpenApi().AllowAnonymous(); // /openapi/v1.json: the gateway merges them, tests enumerate routes from them
        return app;
    }
}
