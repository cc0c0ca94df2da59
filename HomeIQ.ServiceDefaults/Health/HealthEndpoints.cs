using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace HomeIQ.ServiceDefaults.Health;

/// <summary>
/// <c>/health</c> (readiness: every check) and <c>/alive</c> (liveness: checks tagged <c>live</c>), with the aliases
/// <c>/health/ready</c> and <c>/health/live</c>. Unlike Aspire's template they are mapped in every environment, because
/// container platforms probe them; outside Development the body carries the status only.
/// </summary>
public static class HealthEndpoints
{
    /// <summary>The tag of liveness checks.</summary>
    public const string LiveTag = "live";

    /// <summary>Readiness: every check.</summary>
    public const string HealthPath = "/health";

    /// <summary>Liveness: the checks tagged <see cref="LiveTag"/>.</summary>
    public const string AlivePath = "/alive";

    /// <summary>The tag of readiness checks (backing servers).</summary>
    public const string ReadyTag = "ready";

    /// <summary>Registers a readiness check (tag <c>ready</c>, 5 s timeout) for a backing server.</summary>
    public static IServiceCollection AddReadinessCheck(this IServiceCollection services, string name, Func<IServiceProvider, IHealthCheck> factory)
    {
        services.AddHealthChecks().Add(new HealthCheckRegistration(name, factory, HealthStatus.Unhealthy, [ReadyTag], TimeSpan.FromSeconds(5)));
        return services;
    }

    /// <summary>Maps the four endpoints.</summary>
    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder endpoints, IHostEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(environment);
        var ready = new HealthCheckOptions { ResponseWriter = environment.IsDevelopment() ? WriteDetailsAsync : WriteStatusAsync };
        var live = new HealthCheckOptions { Predicate = r => r.Tags.Contains(LiveTag), ResponseWriter = ready.ResponseWriter };
        endpoints.MapHealthChecks(HealthPath, ready).AllowAnonymous();
        endpoints.MapHealthChecks("/health/ready", ready).AllowAnonymous();
        endpoints.MapHealthChecks(AlivePath, live).AllowAnonymous();
        endpoints.MapHealthChecks("/health/live", live).AllowAnonymous();
        return endpoints;
    }

    private static Task WriteStatusAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "text/plain";
        return context.Response.WriteAsync(report.Status.ToString());
    }

    private static Task WriteDetailsAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        var body = new
        {
            status = report.Status.ToString(),
            duration = report.TotalDuration,
            checks = report.Entries.ToDictionary(e => e.Key, e => new
            {
                status = e.Value.Status.ToString(),
                description = e.Value.Description ?? e.Value.Exception?.Message,
                duration = e.Value.Duration,
            }),
        };
        return context.Response.WriteAsync(JsonSerializer.Serialize(body, JsonOptions));
    }

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { WriteIndented = true };
}
