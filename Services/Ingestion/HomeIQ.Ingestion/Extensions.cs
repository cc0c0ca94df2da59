using System.Text;
using HomeIQ.EventBus;
using HomeIQ.Ingestion.Infrastructure;
using HomeIQ.Ingestion.Pipeline;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;

namespace HomeIQ.Ingestion;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddHomeIQAuthentication();
        builder.AddReadingPipeline();
        builder.AddHubKeyAuthentication();
        builder.AddHomeAssistantBridge();
    }

    /// <summary>
    /// The shared pipeline: <see cref="ReadingPipeline"/> as a singleton, also registered as <see cref="IReadingPipeline"/> (what the
    /// HTTP batch, the stream and the Home Assistant bridge use), its cached device lookups, and a publish-only event bus.
    /// </summary>
    public static void AddReadingPipeline(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<IngestionOptions>().BindConfiguration("Ingestion").ValidateDataAnnotations().ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        // No subscriptions: the bus only publishes, and its consumer declares no queue for this service.
        builder.AddEventBus("messaging");
        builder.Services.AddHttpClient(DeviceDirectory.HttpClientName, c => c.BaseAddress = new("http://devices"))
            .AddServiceToken()
            .AddFailFastResilienceHandler();
        builder.Services.AddSingleton<DeviceDirectory>();
        builder.Services.AddSingleton<BrokerBacklog>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<BrokerBacklog>());
        builder.Services.AddSingleton<ReadingPipeline>();
        builder.Services.AddSingleton<IReadingPipeline>(sp => sp.GetRequiredService<ReadingPipeline>());
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, IngestJsonContext.Default));
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
