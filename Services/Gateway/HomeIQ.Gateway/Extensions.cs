using HomeIQ.Gateway.Forwarding;

namespace HomeIQ.Gateway;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<GatewayOptions>().Bind(builder.Configuration.GetSection("Gateway")).ValidateOnStart();
        builder.AddHomeIQAuthentication();
        builder.Services.AddSingleton<RouteTable>();
        builder.Services.AddSingleton<Forwarder>();
        builder.Services.AddSingleton<WebSocketForwarder>();
        // Forwarded requests carry streamed bodies: a retry would resend a consumed body, so the forwarder opts out of
        // the standard pipeline and keeps a plain timeout; the overview's calls keep resilience.
        // RemoveAllResilienceHandlers is experimental (EXTEXP0001); it is the library's own way to opt one client out.
#pragma warning disable EXTEXP0001
        builder.Services.AddHttpClient(Forwarder.ClientName, c => c.Timeout = TimeSpan.FromSeconds(30))
            .RemoveAllResilienceHandlers()
#pragma warning restore EXTEXP0001
            .RemoveAllLoggers() // the gateway's own request telemetry covers these calls; per-call log scopes cost throughput
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, UseProxy = false });
        builder.Services.AddHttpClient(Apis.OverviewApi.ClientName);
        var origins = builder.Configuration.GetSection("Gateway:Cors:Origins").Get<string[]>() ?? [];
        builder.Services.AddCors(o => o.AddPolicy(GatewayEdge.CorsPolicy, p =>
        {
            if (origins.Length > 0)
            {
                p.WithOrigins(origins).AllowAnyHeader().AllowAnyMethod().WithExposedHeaders(GatewayEdge.CorrelationHeader, "Retry-After");
            }
        }));
    }
}
