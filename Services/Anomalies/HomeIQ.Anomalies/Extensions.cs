using HomeIQ.EventBus;

namespace HomeIQ.Anomalies;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddNpgsqlDataSource("anomaliesdb");
        builder.AddEventBus("messaging").AddPostgresOutbox();
        builder.AddHomeIQAuthentication();
    }
}
