using System.Text;
using HomeIQ.Contracts;
using HomeIQ.EventBus;
using HomeIQ.Ingestion.Commands;
using HomeIQ.Ingestion.Infrastructure;
using HomeIQ.Ingestion.Pipeline;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace HomeIQ.Ingestion;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddHomeIQAuthentication();
        var bus = builder.AddReadingPipeline();
        builder.AddHubKeyAuthentication();
        builder.AddHomeAssistantBridge();
        builder.AddMqttIngestion();
        builder.AddDeviceCommands(bus);
    }

    /// <summary>
    /// The shared pipeline: <see cref="ReadingPipeline"/> as a singleton, also registered as <see cref="IReadingPipeline"/> (what the
    /// HTTP batch, the stream and the Home Assistant bridge use), its cached device lookups, and the event bus.
    /// </summary>
    public static IEventBusBuilder AddReadingPipeline(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<IngestionOptions>().BindConfiguration("Ingestion").ValidateDataAnnotations().ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        var bus = builder.AddEventBus("messaging");
        builder.Services.AddHttpClient(DeviceDirectory.HttpClientName, c => c.BaseAddress = new("http://devices"))
            .AddServiceToken()
            .AddFailFastResilienceHandler();
        builder.Services.AddSingleton<DeviceDirectory>();
        builder.Services.AddSingleton<BrokerBacklog>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<BrokerBacklog>());
        builder.Services.AddSingleton<ReadingsPublisher>();
        builder.Services.AddSingleton<ReadingPipeline>();
        builder.Services.AddSingleton<IReadingPipeline>(sp => sp.GetRequiredService<ReadingPipeline>());
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, IngestJsonContext.Default));
        return bus;
    }

    /// <summary>
    /// Device commands (<c>device.command.v1</c>) from the queue the replicas share, handed to the replica holding the hub's stream or the
    /// Home Assistant bridge through a registry in Redis (<c>cache</c>) and that replica's own queue; see <see cref="DeviceCommandHandler"/>.
    /// </summary>
    public static void AddDeviceCommands(this IHostApplicationBuilder builder, IEventBusBuilder bus)
    {
        if (!builder.Services.Any(d => d.ServiceType == typeof(IConnectionMultiplexer)))
        {
            builder.AddRedisClient("cache", configureOptions: redis => redis.AbortOnConnectFail = false); // connect in the background; never fail start-up
        }
        // A command handler waits for its device up to the command's deadline: let many wait at once.
        builder.Services.PostConfigure<EventBusOptions>(o => o.MaxConcurrency = Math.Max(o.MaxConcurrency, 64));
        var replica = HomeAssistantBridgeExtensions.ReplicaName(builder.Configuration);
        builder.Services.AddSingleton(sp => new CommandRegistry(sp.GetRequiredService<IConnectionMultiplexer>(), sp.GetRequiredService<IOptions<IngestionOptions>>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<CommandRegistry>>(), replica));
        builder.Services.AddHostedService(sp => sp.GetRequiredService<CommandRegistry>());
        builder.Services.AddSingleton<HubConnections>();
        builder.Services.AddSingleton<HomeAssistantRoute>();
        builder.Services.AddSingleton<CommandExecutor>();
        builder.Services.AddHostedService<ReplicaCommandQueue>();
        bus.AddSubscription<DeviceCommandRequested, DeviceCommandHandler>();
    }

    /// <summary>The <c>X-Hub-Key</c> scheme and the policy of the ingestion routes, which accepts hub keys only.</summary>
    public static void AddHubKeyAuthentication(this IHostApplicationBuilder builder)
    {
        builder.Services.AddHttpClient(HubKeys.HttpClientName, c => c.BaseAddress = new("http://identity"))
            .AddServiceToken()
            .AddFailFastResilienceHandler();
        builder.Services.AddSingleton<HubKeys>();
        // Kestrel decodes header values as UTF-8 and answers a value that is not with a bare 400, before any middleware runs. Hub keys
        // are ASCII, so any other byte only makes a wrong key: read as Latin-1 it gets the 401 ProblemDetails every wrong key gets.
        builder.Services.Configure<KestrelServerOptions>(o => o.RequestHeaderEncodingSelector = name =>
            string.Equals(name, HubKeyAuthenticationHandler.HeaderName, StringComparison.OrdinalIgnoreCase) ? Encoding.Latin1 : null);
        builder.Services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, HubKeyAuthenticationHandler>(HubKeyAuthenticationHandler.SchemeName, configureOptions: null);
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(HubKeyPrincipal.Policy, new AuthorizationPolicyBuilder(HubKeyAuthenticationHandler.SchemeName)
                .RequireAuthenticatedUser()
                .RequireClaim(HubKeyAuthenticationHandler.HomeIdClaim)
                .Build());
    }

    /// <summary>
    /// Replaces the standard handler the service defaults give every client with one using <see cref="FailFast"/> options.
    /// The library adds the new handler innermost; it goes back outermost, so that the retry resolves the service again.
    /// </summary>
    private static IHttpClientBuilder AddFailFastResilienceHandler(this IHttpClientBuilder builder)
    {
        // Experimental (EXTEXP0001), but it is the library's own way to replace the handler added to every client; options
        // configured for "{client}-standard" do not reach that shared handler.
#pragma warning disable EXTEXP0001
        builder.RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
        builder.AddStandardResilienceHandler(FailFast);
        return builder.ConfigureAdditionalHttpMessageHandlers(static (handlers, _) =>
        {
            var resilience = handlers.OfType<ResilienceHandler>().Single();
            handlers.Remove(resilience);
            handlers.Insert(0, resilience);
        });
    }

    /// <summary>
    /// Lookups sit on the request path, and "unavailable" is a clear answer (503 + Retry-After): one quick retry, then give up,
    /// instead of the standard 3 retries over up to 30 s.
    /// </summary>
    private static void FailFast(HttpStandardResilienceOptions options)
    {
        options.Retry.MaxRetryAttempts = 1;
        options.Retry.Delay = TimeSpan.FromMilliseconds(200);
        options.AttemptTimeout.Timeout = TimeSpan.FromSeconds(2);
        options.TotalRequestTimeout.Timeout = TimeSpan.FromSeconds(5);
    }
}
