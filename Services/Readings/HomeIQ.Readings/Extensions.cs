using HomeIQ.Contracts;
using HomeIQ.EventBus;
using HomeIQ.Readings.Infrastructure;
using HomeIQ.Postgres;

namespace HomeIQ.Readings;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddNpgsqlDataSource("readingsdb");
        // The schema is registered before the event bus and the maintenance job: hosted services start in order.
        builder.Services.AddPostgresSchema(ReadingsSchema.Name, ReadingsSchema.Ddl);
        builder.Services.AddOptions<ReadingsOptions>().Bind(builder.Configuration.GetSection("Readings")).ValidateDataAnnotations()
            .Validate(o => o.RawRetention >= TimeSpan.FromDays(1), "Readings:RawRetention must be at least one day.")
            .Validate(o => o.MaintenanceInterval > TimeSpan.Zero && o.MaxBatchWait >= TimeSpan.Zero, "Readings:MaintenanceInterval must be positive.")
            .ValidateOnStart();
        var batch = builder.Configuration.GetSection("Readings").Get<ReadingsOptions>() ?? new ReadingsOptions();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ReadingPartitions>();
        builder.Services.AddHostedService<ReadingsMaintenance>();
        builder.AddEventBus("messaging")
            .AddPostgresOutbox()
            .AddBatchSubscription<SensorReadingsReceived, ReadingsWriter>(Math.Clamp(batch.MaxBatchMessages, 1, 512), batch.MaxBatchWait);
        builder.AddHomeIQAuthentication();
    }
}
