using System.Net.Http.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace HomeIQ.ServiceDefaults.Authentication;

/// <summary>Where token signing keys come from: Identity's JWKS over HTTP, or Identity's own key store inside Identity.</summary>
public interface ISigningKeySource
{
    /// <summary>The current keys; <paramref name="unknownKeyId"/> asks for a fresh look when the source does not have that key.</summary>
    ValueTask<IReadOnlyList<SecurityKey>> GetKeysAsync(string? unknownKeyId, CancellationToken cancellationToken);
}

/// <summary>
/// The signing keys from Identity's JWKS document, fetched through service discovery and the standard resilience pipeline,
/// cached, and fetched again when a token names a key id the cache does not know (key rotation), at most every
/// <see cref="HomeIQAuthenticationOptions.JwksMinimumRefetchInterval"/> so forged key ids cannot flood Identity.
/// </summary>
public sealed class JwksKeyProvider(IHttpClientFactory httpClients, IOptionsMonitor<HomeIQAuthenticationOptions> options, TimeProvider clock,
    ILogger<JwksKeyProvider> logger) : ISigningKeySource
{
    /// <summary>The named HttpClient used for the JWKS document.</summary>
    public const string HttpClientName = "homeiq-jwks";

    private readonly SemaphoreSlim _gate = new(1, 1);
    private IReadOnlyList<SecurityKey> _keys = [];
    private DateTimeOffset _fetchedAt = DateTimeOffset.MinValue;

    /// <summary>The current keys; <paramref name="unknownKeyId"/> asks for a fresh fetch when the cache does not have that key.</summary>
    public async ValueTask<IReadOnlyList<SecurityKey>> GetKeysAsync(string? unknownKeyId, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        var age = clock.GetUtcNow() - _fetchedAt;
        var stale = age > settings.JwksRefreshInterval;
        var rotated = unknownKeyId is not null && _keys.All(k => k.KeyId != unknownKeyId) && age > settings.JwksMinimumRefetchInterval;
        if (!stale && !rotated)
        {
            return _keys;
        }
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (clock.GetUtcNow() - _fetchedAt > (rotated ? settings.JwksMinimumRefetchInterval : settings.JwksRefreshInterval))
            {
                await FetchAsync(settings, cancellationToken).ConfigureAwait(false);
            }
            return _keys;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task FetchAsync(HomeIQAuthenticationOptions settings, CancellationToken cancellationToken)
    {
        var jwksUri = settings.JwksUri;
        try
        {
            var document = await httpClients.CreateClient(HttpClientName).GetFromJsonAsync<JsonWebKeySetDocument>(jwksUri, cancellationToken).ConfigureAwait(false);
            _keys = [.. (document?.Keys ?? []).Select(k => new JsonWebKey(System.Text.Json.JsonSerializer.Serialize(k)))];
            _fetchedAt = clock.GetUtcNow();
            logger.LogDebug("Fetched {Count} signing keys from {Uri}", _keys.Count, jwksUri);
        }
        catch (Exception ex) when (ex is HttpRequestException or System.Text.Json.JsonException or TaskCanceledException or InvalidOperationException
                                       or Polly.ExecutionRejectedException)
        {
            // Keep the keys we have: tokens signed with them stay valid while Identity is briefly unreachable.
            // Try again after the minimum interval, not on every request.
            _fetchedAt = clock.GetUtcNow() - settings.JwksRefreshInterval + settings.JwksMinimumRefetchInterval;
            logger.LogWarning("Could not fetch signing keys from {Uri}: {Message}", jwksUri, ex.Message);
        }
    }

    private sealed record JsonWebKeySetDocument(List<System.Text.Json.JsonElement>? Keys);
}
