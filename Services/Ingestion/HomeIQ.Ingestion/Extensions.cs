namespace HomeIQ.Ingestion;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddHomeIQAuthentication();
        builder.AddHomeAssistantBridge();
    }
}
