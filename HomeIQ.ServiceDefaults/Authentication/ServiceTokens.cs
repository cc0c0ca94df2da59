using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.Extensions.Options;

namespace HomeIQ.ServiceDefaults.Authentication;

/// <summary>
/// This service's own access token from Identity's client-credentials grant, cached until shortly before it expires.
/// Concurrent callers share one fetch.
/// </summary>
public sealed class ServiceTokenProvider(IHttpClientFactory httpClients, IOptions<ServiceClientOptions> options, TimeProvider clock)
{
    /// <summary>The named HttpClient used to call Identity's token endpoint.</summary>
    public const string HttpClientName = "homeiq-service-token";

    private readonly SemaphoreSlim _gate = new(1, 1);
    private string? _token;
    private DateTimeOffset _renewAt = DateTimeOffset.MinValue;

    /// <summary>A valid token; <paramref name="forceRenew"/> drops the cached one (after a 401).</summary>
    public async ValueTask<string> GetTokenAsync(bool forceRenew, CancellationToken cancellationToken)
    {
        if (!forceRenew && _token is { } cached && clock.GetUtcNow() < _renewAt)
        {
            return cached;
        }
        var seen = _token;
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Another caller may have renewed it while this one waited.
            if (_token is { } token && clock.GetUtcNow() < _renewAt && (!forceRenew || !ReferenceEquals(token, seen)))
            {
                return token;
            }
            var settings = options.Value;
            if (string.IsNullOrEmpty(settings.Id) || string.IsNullOrEmpty(settings.Secret))
            {
                throw new InvalidOperationException(
                    "This service calls other services with a service token but has no client credentials. Set Authentication:Client:Secret " +
                    "(environment Authentication__Client__Secret); the AppHost passes it from a generated secret parameter that Identity also gets as Identity__Clients__{id}.");
            }
            using var response = await httpClients.CreateClient(HttpClientName)
                .PostAsJsonAsync(settings.TokenEndpoint, new { clientId = settings.Id, clientSecret = settings.Secret }, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.Unauthorized)
            {
                throw new InvalidOperationException($"Identity refused the client credentials of '{settings.Id}': the secret is wrong or the client is not registered.");
            }
            response.EnsureSuccessStatusCode();
            var issued = await response.Content.ReadFromJsonAsync<IssuedToken>(cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException("Identity answered the token request with an empty body.");
            _token = issued.AccessToken;
            _renewAt = clock.GetUtcNow() + TimeSpan.FromSeconds(issued.ExpiresIn) - settings.RenewBefore;
            return _token;
        }
        finally
        {
            _gate.Release();
        }
    }

    private sealed record IssuedToken(string AccessToken, int ExpiresIn);
}

/// <summary>Adds this service's token to outgoing requests, and fetches a new one once when the callee answers 401.</summary>
public sealed class ServiceTokenHandler(ServiceTokenProvider tokens) : DelegatingHandler
{
    /// <inheritdoc />
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await tokens.GetTokenAsync(forceRenew: false, cancellationToken).ConfigureAwait(false));
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.Unauthorized || request.Content is not (null or ByteArrayContent))
        {
            return response;
        }
        // Identity may have rotated its keys or restarted: one retry with a fresh token.
        response.Dispose();
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await tokens.GetTokenAsync(forceRenew: true, cancellationToken).ConfigureAwait(false));
        return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }
}
