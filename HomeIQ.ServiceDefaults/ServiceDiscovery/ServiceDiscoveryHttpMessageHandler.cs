namespace HomeIQ.ServiceDefaults.ServiceDiscovery;

/// <summary>Rewrites requests to service names (<c>https+http://devices/…</c>) to a resolved endpoint before sending them on.</summary>
/// <remarks>Requests to IP addresses, <c>localhost</c> or dotted host names pass through unchanged.</remarks>
public sealed class ServiceDiscoveryHttpMessageHandler(ServiceEndpointResolver resolver) : DelegatingHandler
{
    private readonly ServiceEndpointResolver _resolver = resolver ?? throw new ArgumentNullException(nameof(resolver));

    /// <summary>Resolves the request URI, then sends the request to the inner handler.</summary>
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.RequestUri is { } uri)
        {
            request.RequestUri = await _resolver.ResolveAsync(uri, cancellationToken).ConfigureAwait(false);
        }

        return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Resolves the request URI, then sends the request to the inner handler synchronously.</summary>
    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        cancellationToken.ThrowIfCancellationRequested();
        if (request.RequestUri is { } uri)
        {
            request.RequestUri = _resolver.Resolve(uri);
        }

        return base.Send(request, cancellationToken);
    }
}
