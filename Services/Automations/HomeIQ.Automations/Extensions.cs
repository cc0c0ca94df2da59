using HomeIQ.Automations.Infrastructure;
using HomeIQ.Contracts;
using HomeIQ.EventBus;
using HomeIQ.Postgres;

namespace HomeIQ.Automations;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddNpgsqlDataSource("automationsdb");
        // The schema is registered before the event bus and the sweep: hosted services start in order.
        builder.Services.AddPostgresSchema(AutomationsSchema.Name, AutomationsSchema.Ddl);
        builder.Services.AddOptions<AutomationsOptions>().Bind(builder.Configuration.GetSection("Automations"))
            .Validate(o => o.CommandTimeout > TimeSpan.Zero && o.SweepInterval > TimeSpan.Zero && o.ScheduleGrace >= TimeSpan.Zero && o.MaxBatchWait >= TimeSpan.Zero,
                "Automations:CommandTimeout and SweepInterval must be positive, ScheduleGrace and MaxBatchWait not negative.")
            .ValidateOnStart();
        var settings = builder.Configuration.GetSection("Automations").Get<AutomationsOptions>() ?? new AutomationsOptions();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<Runs>();
        builder.Services.AddSingleton<RuleEngine>();
        builder.Services.AddHostedService<AutomationsSweep>();
        // Its queue is also the reply-to of its commands: replies wait there, durable, across a restart.
        builder.AddEventBus("messaging")
            .AddPostgresOutbox()
            .AddSubscription<DeviceCommandCompleted, CommandReplies>()
            .AddSubscription<AnomalyDetected, AnomalyTriggers>()
            .AddSubscription<DeviceStateChanged, StateTriggers>()
            .AddBatchSubscription<ReadingsStored, ReadingTriggers>(Math.Clamp(settings.MaxBatchMessages, 1, 512), settings.MaxBatchWait);
        builder.AddHomeIQAuthentication();
    }
}
