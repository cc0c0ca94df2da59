using System.Buffers;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace HomeIQ.Ingestion.Infrastructure;

/// <summary>The home a hub key belongs to: Identity's answer on <c>POST /api/v1/internal/hub-keys/validate</c>.</summary>
public sealed record HubKeyOwner(Guid HomeId, Guid KeyId);

/// <summary>The body of the validation call.</summary>
public sealed record HubKeyValidation(string Key);

/// <summary>Identity could not be asked about a hub key.</summary>
public sealed class IdentityUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Hub keys validated by Identity, cached by their SHA-256 (the keys themselves are not kept): a valid key for
/// <see cref="IngestionOptions.HubKeyCacheLifetime"/>, an unknown one for <see cref="IngestionOptions.UnknownHubKeyCacheLifetime"/>.
/// So a revoked key keeps working on a replica that validated it shortly before, for at most the positive lifetime (30 s by default).
/// </summary>
internal sealed class HubKeys
{
    /// <summary>Identity's own limit; anything longer is unknown without asking.</summary>
    public const int MaxKeyLength = 200;

    /// <summary>What every key Identity issues starts with.</summary>
    public const string KeyPrefix = "hiq_";

    /// <summary>What follows the prefix in every key Identity issues: base64url.</summary>
    private static readonly SearchValues<char> KeyCharacters = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

    public const string HttpClientName = "identity";
    private readonly IHttpClientFactory _http;
    private readonly IngestionOptions _options;
    private readonly LookupCache<string, HubKeyOwner?> _cache;

    public HubKeys(IHttpClientFactory http, IOptions<IngestionOptions> options, TimeProvider clock)
    {
        _http = http;
        _options = options.Value;
        _cache = new(clock, _options.CacheSize);
    }

    /// <summary>The key's home, or null when the key is unknown or revoked; throws <see cref="IdentityUnavailableException"/> when Identity cannot be asked.</summary>
    public async ValueTask<HubKeyOwner?> ValidateAsync(string key)
    {
        // Identity issues "hiq_" + base64url keys only: anything else is unknown without a round trip (or a cache entry), so a
        // malformed key gets its 401 even while Identity is slow or down.
        if (key.Length is <= 4 or > MaxKeyLength || !key.StartsWith(KeyPrefix, StringComparison.Ordinal) || key.AsSpan(KeyPrefix.Length).ContainsAnyExcept(KeyCharacters))
        {
            return null;
        }
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
        return _cache.TryGet(hash, out var owner) ? owner : await _cache.GetAsync(hash, _ => LoadAsync(key)).ConfigureAwait(false);
    }

    private async Task<(HubKeyOwner?, TimeSpan)> LoadAsync(string key)
    {
        try
        {
            // A byte-array body, so the service-token handler may resend it with a fresh token after a 401.
            using var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(new HubKeyValidation(key), IngestJsonContext.Default.HubKeyValidation));
            content.Headers.ContentType = new("application/json");
            using var response = await _http.CreateClient(HttpClientName).PostAsync("/api/v1/internal/hub-keys/validate", content).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return (null, _options.UnknownHubKeyCacheLifetime);
            }
            if (!response.IsSuccessStatusCode)
            {
                throw new IdentityUnavailableException($"Identity answered the hub-key validation with {(int)response.StatusCode}.");
            }
            var owner = await response.Content.ReadFromJsonAsync(IngestJsonContext.Default.HubKeyOwner).ConfigureAwait(false)
                ?? throw new IdentityUnavailableException("Identity answered the hub-key validation with an empty body.");
            return (owner, _options.HubKeyCacheLifetime);
        }
        catch (Exception ex) when (ex is not IdentityUnavailableException)
        {
            throw new IdentityUnavailableException($"Identity could not validate the hub key: {ex.Message}", ex);
        }
    }
}
