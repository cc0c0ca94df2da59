using HomeIQ.Gateway.Edge;

namespace HomeIQ.Gateway;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<GatewayOptions>().Bind(builder.Configuration.GetSection("Gateway")).ValidateOnStart();
        var options = builder.Configuration.GetSection("Gateway").Get<GatewayOptions>() ?? new GatewayOptions();
        builder.AddHomeIQAuthentication();
        // Routes and clusters come from the ReverseProxy section; a destination such as http://devices is resolved by service
        // discovery, one destination per replica. YARP's own client has no retries: a streamed body cannot be sent twice.
        builder.Services.AddReverseProxy()
            .LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"))
            .AddServiceDiscoveryDestinationResolver()
            .AddConfigFilter<ProxyDefaults>();
        builder.Services.AddEdgeRateLimits(options.RateLimits);
        builder.Services.AddHttpClient(Apis.OverviewApi.ClientName);
        builder.Services.AddCors(o => o.AddPolicy(GatewayEdge.CorsPolicy, p =>
        {
            if (options.Cors.Origins.Count > 0)
            {
                p.WithOrigins([.. options.Cors.Origins]).AllowAnyHeader().AllowAnyMethod().WithExposedHeaders(GatewayEdge.CorrelationHeader, "Retry-After");
            }
        }));
    }
}
