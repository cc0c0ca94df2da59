using HomeIQ.Anomalies.Detection;
using HomeIQ.Anomalies.Infrastructure;
using HomeIQ.Contracts;
using HomeIQ.EventBus;
using HomeIQ.Postgres;
using Microsoft.Extensions.Options;

namespace HomeIQ.Anomalies;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddNpgsqlDataSource("anomaliesdb");
        // The schema is registered before the event bus and the sweep: hosted services start in order.
        builder.Services.AddPostgresSchema(AnomaliesSchema.Name, AnomaliesSchema.Ddl);
        builder.Services.AddOptions<AnomaliesOptions>().Bind(builder.Configuration.GetSection("Anomalies"))
            .Validate(o => o.SweepInterval > TimeSpan.Zero && o.SweepStartupGrace >= TimeSpan.Zero && o.MaxBatchWait >= TimeSpan.Zero,
                "Anomalies:SweepInterval must be positive, SweepStartupGrace and MaxBatchWait not negative.")
            .ValidateOnStart();
        var settings = builder.Configuration.GetSection("Anomalies").Get<AnomaliesOptions>() ?? new AnomaliesOptions();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(sp => new AnomalyDetector(sp.GetRequiredService<IOptions<AnomaliesOptions>>().Value.Detector));
        builder.Services.AddSingleton<SeriesCache>();
        builder.Services.AddSingleton<AnomalyWriter>();
        builder.Services.AddHostedService<OfflineSweep>();
        builder.AddEventBus("messaging")
            .AddPostgresOutbox()
            .AddBatchSubscription<SensorReadingsReceived, ReadingsDetection>(Math.Clamp(settings.MaxBatchMessages, 1, 512), settings.MaxBatchWait);
        builder.AddHomeIQAuthentication();
    }
}
