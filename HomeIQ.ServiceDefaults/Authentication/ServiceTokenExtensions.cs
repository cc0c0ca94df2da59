using HomeIQ.ServiceDefaults.Authentication;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Calls to other services' internal routes with this service's own token.</summary>
public static class ServiceTokenExtensions
{
    /// <summary>
    /// Sends this service's client-credentials token (from Identity, cached) on every request of the client.
    /// The client id defaults to the service name; the secret comes from <c>Authentication:Client:Secret</c>.
    /// </summary>
    public static IHttpClientBuilder AddServiceToken(this IHttpClientBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        if (!services.Any(d => d.ServiceType == typeof(ServiceTokenProvider)))
        {
            services.AddOptions<ServiceClientOptions>()
                .Configure<IConfiguration>((o, configuration) => o.Id = configuration["OTEL_SERVICE_NAME"] ?? "")
                .BindConfiguration("Authentication:Client");
            services.TryAddSingleton(TimeProvider.System);
            services.AddSingleton<ServiceTokenProvider>();
            services.AddTransient<ServiceTokenHandler>();
            services.AddHttpClient(ServiceTokenProvider.HttpClientName);
        }
        return builder.AddHttpMessageHandler<ServiceTokenHandler>();
    }
}
