using HomeIQ.EventBus;

namespace HomeIQ.Energy;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddNpgsqlDataSource("energydb");
        builder.AddEventBus("messaging").AddPostgresOutbox();
        builder.AddHomeIQAuthentication();
    }
}
