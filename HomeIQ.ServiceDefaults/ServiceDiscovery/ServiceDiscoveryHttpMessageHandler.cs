namespace HomeIQ.ServiceDefaults.ServiceDiscovery;

/// <summary>Rewrites requests to service names (<c>https+http://devices/…</c>) to a resolved endpoint before sending them on.</summary>
/// <remarks>Requests to IP addresses, <c>localhost</c> or dotted host names pass through unchanged.
/// As in Aspire, the original URI is put back after sending, so a retry by an outer handler resolves again (and may reach another replica).</remarks>
public sealed class ServiceDiscoveryHttpMessageHandler(ServiceEndpointResolver resolver) : DelegatingHandler
{
    private readonly ServiceEndpointResolver _resolver = resolver ?? throw new ArgumentNullException(nameof(resolver));

    /// <summary>Resolves the request URI, then sends the request to the inner handler.</summary>
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var original = request.RequestUri;
        if (original is not null)
        {
            request.RequestUri = await _resolver.ResolveAsync(original, cancellationToken).ConfigureAwait(false);
        }

        try
        {
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            request.RequestUri = original;
        }
    }

    /// <summary>Resolves the request URI, then sends the request to the inner handler synchronously.</summary>
    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        cancellationToken.ThrowIfCancellationRequested();
        var original = request.RequestUri;
        if (original is not null)
        {
            request.RequestUri = _resolver.Resolve(original);
        }

        try
        {
            return base.Send(request, cancellationToken);
        }
        finally
        {
            request.RequestUri = original;
        }
    }
}
