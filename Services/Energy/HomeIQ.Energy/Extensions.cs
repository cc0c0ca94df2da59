using HomeIQ.Contracts;
using HomeIQ.Energy.Infrastructure;
using HomeIQ.EventBus;
using HomeIQ.Postgres;

namespace HomeIQ.Energy;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddNpgsqlDataSource("energydb");
        // The schema is registered before the event bus: hosted services start in order, and the handlers need the tables.
        builder.Services.AddPostgresSchema(EnergySchema.Name, EnergySchema.Ddl);
        builder.Services.AddOptions<EnergyOptions>().Bind(builder.Configuration.GetSection("Energy")).ValidateDataAnnotations()
            .Validate(o => o.MaxPowerGap > TimeSpan.Zero && o.MaxBatchWait >= TimeSpan.Zero, "Energy:MaxPowerGap must be positive.")
            .ValidateOnStart();
        var options = builder.Configuration.GetSection("Energy").Get<EnergyOptions>() ?? new EnergyOptions();
        builder.AddEventBus("messaging")
            .AddPostgresOutbox()
            .AddBatchSubscription<SensorReadingsReceived, EnergyReadingsHandler>(Math.Clamp(options.MaxBatchMessages, 1, 512), options.MaxBatchWait)
            .AddSubscription<DeviceRegistered, DeviceRegistryHandler>()
            .AddSubscription<DeviceUpdated, DeviceRegistryHandler>()
            .AddSubscription<DeviceRemoved, DeviceRegistryHandler>();
        builder.AddHomeIQAuthentication();
    }
}
