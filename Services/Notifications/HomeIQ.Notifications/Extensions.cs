using HomeIQ.Contracts;
using HomeIQ.EventBus;
using HomeIQ.Notifications.Infrastructure;
using HomeIQ.Postgres;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using StackExchange.Redis;

namespace HomeIQ.Notifications;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddNpgsqlDataSource("notificationsdb");
        // The schema is registered before the event bus: hosted services start in order, and the handlers need the tables.
        builder.Services.AddPostgresSchema(NotificationsSchema.Name, NotificationsSchema.Ddl);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddHttpClient<HomeMembers>(c => c.BaseAddress = new("http://identity")).AddServiceToken();
        builder.Services.AddSingleton<InboxWriter>();
        builder.Services.AddSingleton<IUserIdProvider, SubjectUserIdProvider>();
        // The backplane: a push raised on one replica reaches the user's connections on the other through Redis pub/sub.
        var redis = builder.Configuration.GetConnectionString("cache")
            ?? throw new InvalidOperationException("ConnectionStrings:cache is missing: the SignalR backplane needs the Redis the AppHost calls 'cache'.");
        builder.Services.AddSignalR().AddStackExchangeRedis(redis, o =>
        {
            o.Configuration.ChannelPrefix = RedisChannel.Literal("homeiq-notifications");
            o.Configuration.AbortOnConnectFail = false; // keep trying while Redis restarts; pushes meanwhile are lost, the inbox is not
        });
        builder.AddEventBus("messaging")
            .AddSubscription<AnomalyDetected, NotificationHandlers>()
            .AddSubscription<AnomalyResolved, NotificationHandlers>()
            .AddSubscription<AutomationRunFailed, NotificationHandlers>()
            .AddSubscription<AutomationNotificationRequested, NotificationHandlers>();
        builder.AddHomeIQAuthentication();
    }

    /// <summary>The hub at <c>/hubs/notifications</c>, WebSockets only: a client skips negotiation, so it never needs to reach the same replica twice.</summary>
    public static WebApplication MapNotificationsHub(this WebApplication app)
    {
        app.MapHub<NotificationsHub>(NotificationsHub.Path, o => o.Transports = HttpTransportType.WebSockets);
        return app;
    }
}
