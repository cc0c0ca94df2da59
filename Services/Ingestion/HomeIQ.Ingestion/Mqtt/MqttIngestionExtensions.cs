using HomeIQ.Ingestion.HomeAssistant;
using HomeIQ.Ingestion.Mqtt;
using HomeIQ.ServiceDefaults.Health;
using Microsoft.Extensions.DependencyInjection.Extensions;
using StackExchange.Redis;

namespace HomeIQ.Ingestion;

/// <summary>Wires the MQTT subscriber into Ingestion.</summary>
public static class MqttIngestionExtensions
{
    /// <summary>
    /// Subscribes to the MQTT broker when the <c>mqtt</c> connection string exists (and does nothing otherwise); devices are resolved by
    /// external id through Devices, like the Home Assistant bridge's entities; first-seen times live in Redis (<c>cache</c>).
    /// </summary>
    public static void AddMqttIngestion(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (builder.Configuration.GetConnectionString("mqtt") is not { Length: > 0 } connectionString)
        {
            return;
        }
        if (!builder.Services.Any(d => d.ServiceType == typeof(IConnectionMultiplexer)))
        {
            builder.AddRedisClient("cache", configureOptions: redis => redis.AbortOnConnectFail = false); // connect in the background; never fail start-up
        }
        if (!builder.Services.Any(d => d.ServiceType == typeof(IExternalDeviceDirectory)))
        {
            builder.Services.AddHttpClient<IExternalDeviceDirectory, DevicesExternalDirectory>(c => c.BaseAddress = new("http://devices")).AddServiceToken();
        }
        builder.Services.AddOptions<MqttOptions>().BindConfiguration(MqttOptions.Section);
        builder.Services.AddMetrics();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(new MqttConnection(connectionString, HomeAssistantBridgeExtensions.ReplicaName(builder.Configuration)));
        builder.Services.AddSingleton<MqttMetrics>();
        builder.Services.AddSingleton<MqttDeviceMap>();
        builder.Services.AddSingleton<MqttTimestamps>();
        builder.Services.AddSingleton<MqttDiscoveryRegistry>();
        builder.Services.AddSingleton<MqttDiscovery>();
        builder.Services.AddSingleton<MqttStatus>();
        builder.Services.AddHostedService<MqttSubscriber>();
        builder.Services.AddHealthChecks().AddCheck<MqttHealthCheck>("mqtt-subscriber", tags: [HealthEndpoints.ReadyTag]);
        builder.Services.AddSingleton<MqttCommands>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<MqttCommands>());
    }
}
