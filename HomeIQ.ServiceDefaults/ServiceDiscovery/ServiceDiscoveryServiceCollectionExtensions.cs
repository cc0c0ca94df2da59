using HomeIQ.ServiceDefaults.ServiceDiscovery;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers configuration-based service discovery, in the shape of Microsoft.Extensions.ServiceDiscovery.</summary>
public static class ServiceDiscoveryServiceCollectionExtensions
{
    /// <summary>Adds the <see cref="ServiceEndpointResolver"/> (singleton) and <see cref="ServiceDiscoveryHttpMessageHandler"/> (transient). Safe to call more than once.</summary>
    public static IServiceCollection AddServiceDiscovery(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton<ServiceEndpointResolver>();
        services.TryAddTransient<ServiceDiscoveryHttpMessageHandler>();
        return services;
    }

    /// <summary>Adds service discovery to this HTTP client, so that requests to <c>http://devices/…</c> reach a configured endpoint.</summary>
    public static IHttpClientBuilder AddServiceDiscovery(this IHttpClientBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddServiceDiscovery();
        builder.AddHttpMessageHandler<ServiceDiscoveryHttpMessageHandler>();
        return builder;
    }
}
