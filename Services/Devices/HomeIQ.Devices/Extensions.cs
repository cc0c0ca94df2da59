using HomeIQ.Postgres;
using HomeIQ.Contracts;
using HomeIQ.Devices.Infrastructure;
using HomeIQ.EventBus;

namespace HomeIQ.Devices;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddNpgsqlDataSource("devicesdb");
        builder.AddRedisClient("cache", configureOptions: redis => redis.AbortOnConnectFail = false); // connect in the background; never fail start-up
        // The schema is registered before the event bus: hosted services start in order, and the handlers need the tables.
        builder.Services.AddPostgresSchema(DevicesSchema.Name, DevicesSchema.Ddl);
        builder.AddEventBus("messaging")
            .AddPostgresOutbox()
            // One transaction and one view refresh for the events that arrive within 20 ms: Readings publishes one for every home of
            // every batch it stores.
            .AddBatchSubscription<ReadingsStored, ReadingsStoredHandler>(maxBatch: 64, maxWait: TimeSpan.FromMilliseconds(20))
            .AddSubscription<DeviceStateChanged, DeviceStateChangedHandler>();
        builder.Services.AddMemoryCache();
        builder.Services.AddSingleton<DeviceStateView>();
        builder.Services.AddSingleton<DeviceLookupCache>();
        builder.AddHomeIQAuthentication();
    }
}
