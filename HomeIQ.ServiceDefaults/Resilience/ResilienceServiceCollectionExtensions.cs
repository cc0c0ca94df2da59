using HomeIQ.ServiceDefaults.Resilience;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the standard resilience pipeline and adds it to HttpClients.</summary>
/// <remarks>
/// Works on named clients and on <c>services.ConfigureHttpClientDefaults(h => h.AddStandardResilienceHandler())</c> (all clients);
/// a client gets the handler only once however often it is added. Global option changes belong in
/// <c>services.ConfigureAll&lt;HttpStandardResilienceOptions&gt;</c>; per-client changes made here are post-configuration and win.
/// </remarks>
public static class ResilienceServiceCollectionExtensions
{
    private static readonly TimeSpan DefaultHttpClientTimeout = TimeSpan.FromSeconds(100);

    /// <summary>Registers the pipeline provider and the options validator; safe to call more than once.</summary>
    public static IServiceCollection AddStandardResilience(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions();
        services.TryAddSingleton<ResiliencePipelineProvider>();
        services.TryAddEnumerable(
            ServiceDescriptor.Singleton<IValidateOptions<HttpStandardResilienceOptions>, HttpStandardResilienceOptionsValidator>());
        return services;
    }

    /// <summary>
    /// Adds the standard resilience handler to the client, makes its <see cref="HttpClient.Timeout"/> infinite (the pipeline
    /// owns timeouts) and validates its options on start; <paramref name="configure"/> changes this client's options.
    /// </summary>
    public static IHttpClientBuilder AddStandardResilienceHandler(this IHttpClientBuilder builder, Action<HttpStandardResilienceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddStandardResilience();
        if (configure is not null)
        {
            builder.ConfigureStandardResilience(configure);
        }

        if (builder.Name is not null)
        {
            builder.Services.AddOptions<HttpStandardResilienceOptions>(builder.Name).ValidateOnStart();
        }

        builder.Services.Configure<HttpClientFactoryOptions>(builder.Name, o => o.HttpMessageHandlerBuilderActions.Add(AddHandler));
        return builder.ConfigureHttpClient(c => c.Timeout = Timeout.InfiniteTimeSpan);
    }

    /// <summary>Changes the standard resilience options of this client (of every client when called inside <c>ConfigureHttpClientDefaults</c>).</summary>
    public static IHttpClientBuilder ConfigureStandardResilience(this IHttpClientBuilder builder, Action<HttpStandardResilienceOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        if (builder.Name is null)
        {
            builder.Services.ConfigureAll(configure);
        }
        else
        {
            builder.Services.PostConfigure(builder.Name, configure);
        }

        return builder;
    }

    /// <summary>
    /// Opts this client out of the standard pipeline: requests go straight through, and <see cref="HttpClient.Timeout"/>
    /// is back at HttpClient's default of 100 s (set another after this call if needed).
    /// </summary>
    public static IHttpClientBuilder DisableStandardResilience(this IHttpClientBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder
            .ConfigureStandardResilience(o => o.Enabled = false)
            .ConfigureHttpClient(c => c.Timeout = DefaultHttpClientTimeout);
    }

    private static void AddHandler(HttpMessageHandlerBuilder handlerBuilder)
    {
        if (handlerBuilder.AdditionalHandlers.Any(h => h is ResilienceHandler))
        {
            return;
        }

        var provider = handlerBuilder.Services.GetRequiredService<ResiliencePipelineProvider>();
        handlerBuilder.AdditionalHandlers.Add(provider.CreateHandler(handlerBuilder.Name ?? Microsoft.Extensions.Options.Options.DefaultName));
    }
}
