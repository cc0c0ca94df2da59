using HomeIQ.Contracts;
using HomeIQ.EventBus;
using HomeIQ.Readings.Infrastructure;
using HomeIQ.Postgres;

namespace HomeIQ.Readings;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        // Readings streams every batch with binary COPY in chunks of 32 KB (BinaryCopyWriter): a 64 KB write buffer takes each chunk
        // whole and sends two at a time, where the 8 KB default would send every chunk in pieces.
        builder.AddNpgsqlDataSource("readingsdb", configureDataSourceBuilder: data => data.ConnectionStringBuilder.WriteBufferSize = 64 * 1024);
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
