using HomeIQ.Ingestion.HomeAssistant;
using HomeIQ.ServiceDefaults.Health;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace HomeIQ.Ingestion;

/// <summary>Wires the Home Assistant bridge into Ingestion.</summary>
public static class HomeAssistantBridgeExtensions
{
    /// <summary>
    /// Runs the bridge when <c>HomeAssistant:Url</c> is configured (and does nothing otherwise): one replica at a time,
    /// chosen by a Redis lease on <c>cache</c>, resolving entities through Devices with the service token.
    /// </summary>
    public static void AddHomeAssistantBridge(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var section = builder.Configuration.GetSection(HomeAssistantOptions.Section);
        if (string.IsNullOrWhiteSpace(section["Url"]))
        {
            return;
        }
        if (!builder.Services.Any(d => d.ServiceType == typeof(IConnectionMultiplexer)))
        {
            builder.AddRedisClient("cache", configureOptions: redis => redis.AbortOnConnectFail = false); // connect in the background; never fail start-up
        }
        builder.Services.AddHttpClient<IExternalDeviceDirectory, DevicesExternalDirectory>(c => c.BaseAddress = new("http://devices")).AddServiceToken();
        var replica = ReplicaName(builder.Configuration);
        builder.Services.AddSingleton<IBridgeLease>(sp =>
            new RedisBridgeLease(sp.GetRequiredService<IConnectionMultiplexer>(), sp.GetRequiredService<IOptions<HomeAssistantOptions>>(), replica));
        builder.Services.AddHomeAssistantBridgeCore(section);
    }

    /// <summary>
    /// The bridge itself (options validated on start, forwarder, metrics, hosted service, health check), without its
    /// <see cref="IBridgeLease"/>, <see cref="IExternalDeviceDirectory"/> and <see cref="Pipeline.IReadingPipeline"/>, which the caller provides.
    /// </summary>
    public static IServiceCollection AddHomeAssistantBridgeCore(this IServiceCollection services, IConfiguration section)
    {
        services.AddOptions<HomeAssistantOptions>().Bind(section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<HomeAssistantOptions>, HomeAssistantOptionsValidator>();
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<HomeAssistantMetrics>();
        services.AddSingleton<HomeAssistantBridgeStatus>();
        services.AddSingleton<ReadingForwarder>();
        services.AddSingleton<HomeAssistantCommands>();
        services.AddHostedService<HomeAssistantBridge>();
        services.AddHealthChecks().AddCheck<HomeAssistantBridgeHealthCheck>("homeassistant-bridge", tags: [HealthEndpoints.ReadyTag]);
        return services;
    }

    /// <summary>The replica's name: its <c>service.instance.id</c> when the AppHost gave one, else host and process.</summary>
    internal static string ReplicaName(IConfiguration configuration)
    {
        foreach (var attribute in (configuration["OTEL_RESOURCE_ATTRIBUTES"] ?? "").Split(','))
        {
            if (attribute.Split('=', 2) is ["service.instance.id", { Length: > 0 } id])
            {
                return id.Trim();
            }
        }
        return $"{Environment.MachineName}-{Environment.ProcessId}";
    }
}
