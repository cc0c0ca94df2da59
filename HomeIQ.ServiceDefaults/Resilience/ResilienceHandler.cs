using Polly;

namespace HomeIQ.ServiceDefaults.Resilience;

/// <summary>
/// Delegating handler that sends each request through a client's standard resilience pipeline.
/// </summary>
/// <remarks>
/// Retries re-send the same <see cref="HttpRequestMessage"/>. That is fine for requests without content or with
/// buffered content (<see cref="StringContent"/>, <see cref="ByteArrayContent"/>, JSON content); a request whose content
/// is a non-seekable stream cannot be sent twice and its retries fail. Responses that get retried are disposed by Polly's
/// retry before the next attempt, so their connections are released.
/// </remarks>
public sealed class ResilienceHandler : DelegatingHandler
{
    private readonly Func<ResiliencePipeline<HttpResponseMessage>?> _pipeline;

    /// <summary>Creates a handler that always uses the given pipeline.</summary>
    public ResilienceHandler(ResiliencePipeline<HttpResponseMessage> pipeline)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        _pipeline = () => pipeline;
    }

    /// <summary>Creates a handler for a named client; it asks the provider for the pipeline on each request and passes requests straight through when the client opted out.</summary>
    public ResilienceHandler(ResiliencePipelineProvider provider, string clientName)
    {
        ArgumentNullException.ThrowIfNull(provider);
        ArgumentNullException.ThrowIfNull(clientName);
        _pipeline = () => provider.GetEnabledPipeline(clientName);
    }

    /// <inheritdoc/>
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var pipeline = _pipeline();
        if (pipeline is null)
        {
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }

        return await pipeline.ExecuteAsync(
            static async (state, token) => await state.Handler.SendAttemptAsync(state.Request, token).ConfigureAwait(false),
            (Handler: this, Request: request),
            cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var pipeline = _pipeline();
        if (pipeline is null)
        {
            return base.Send(request, cancellationToken);
        }

        return pipeline.Execute(
            static (state, token) => state.Handler.SendAttempt(state.Request, token),
            (Handler: this, Request: request),
            cancellationToken);
    }

    private Task<HttpResponseMessage> SendAttemptAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        base.SendAsync(request, cancellationToken);

    private HttpResponseMessage SendAttempt(HttpRequestMessage request, CancellationToken cancellationToken) =>
        base.Send(request, cancellationToken);
}
