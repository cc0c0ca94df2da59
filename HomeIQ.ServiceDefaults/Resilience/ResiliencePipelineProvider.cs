using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Polly;

namespace HomeIQ.ServiceDefaults.Resilience;

/// <summary>
/// Singleton that keeps one standard pipeline per HttpClient name, so that all handlers of a client (the factory rotates
/// them every 2 minutes) share its concurrency limiter and circuit breaker. A client's pipeline is rebuilt, with fresh
/// state, only after its named options change.
/// </summary>
public sealed class ResiliencePipelineProvider : IDisposable
{
    private readonly IOptionsMonitor<HttpStandardResilienceOptions> _options;
    private readonly ConcurrentDictionary<string, Lazy<ResiliencePipeline<HttpResponseMessage>?>> _pipelines = new(StringComparer.Ordinal);
    private readonly IDisposable? _changeSubscription;

    /// <summary>Creates the provider over the named standard resilience options.</summary>
    public ResiliencePipelineProvider(IOptionsMonitor<HttpStandardResilienceOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _changeSubscription = options.OnChange((_, name) => _pipelines.TryRemove(name ?? Options.DefaultName, out var _));
    }

    /// <summary>Gets the pipeline of a client ("" for the unnamed client); <see cref="ResiliencePipeline{T}.Empty"/> when the client opted out.</summary>
    /// <exception cref="OptionsValidationException">The client's options are invalid.</exception>
    public ResiliencePipeline<HttpResponseMessage> GetPipeline(string clientName) =>
        GetEnabledPipeline(clientName) ?? ResiliencePipeline<HttpResponseMessage>.Empty;

    /// <summary>Creates a handler for a client that looks up its pipeline per request (for an <c>IHttpMessageHandlerBuilderFilter</c>).</summary>
    public ResilienceHandler CreateHandler(string clientName) => new(this, clientName);

    /// <summary>Stops listening for options changes.</summary>
    public void Dispose() => _changeSubscription?.Dispose();

    /// <summary>Gets the pipeline of a client, or null when the client opted out.</summary>
    internal ResiliencePipeline<HttpResponseMessage>? GetEnabledPipeline(string clientName)
    {
        ArgumentNullException.ThrowIfNull(clientName);

        // PublicationOnly: invalid options throw on every call instead of being cached as a failure.
        return _pipelines.GetOrAdd(
            clientName,
            static (name, self) => new Lazy<ResiliencePipeline<HttpResponseMessage>?>(() => self.Build(name), LazyThreadSafetyMode.PublicationOnly),
            this).Value;
    }

    private ResiliencePipeline<HttpResponseMessage>? Build(string clientName)
    {
        var options = _options.Get(clientName);
        return options.Enabled ? StandardPipelineFactory.Create(clientName, options) : null;
    }
}
