using System.Security.Cryptography;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;
using Npgsql;

namespace HomeIQ.Identity.Infrastructure;

/// <summary>
/// RSA signing keys kept in identitydb, so every replica and every restart signs with, and publishes, the same keys.
/// The first start creates one under an advisory lock. Tokens are signed with the newest key; JWKS lists them all,
/// so a new key can be added (rotation) while tokens signed with the old one stay valid until they expire.
/// </summary>
/// <remarks>
/// It is also JwtBearer's configuration manager inside Identity: Identity validates its own tokens from this store, not over
/// HTTP from itself. A refresh request (a token with an unknown key id) reloads at most every 30 s.
/// </remarks>
internal sealed class SigningKeyStore(NpgsqlDataSource db, TimeProvider clock) : IConfigurationManager<OpenIdConnectConfiguration>
{
    private const long LockKey = 0x486F6D6549510003;
    private static readonly TimeSpan ReloadInterval = TimeSpan.FromSeconds(30);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private RsaSecurityKey[] _keys = [];
    private DateTimeOffset _loadedAt = DateTimeOffset.MinValue;

    private volatile bool _refreshRequested;
    private volatile OpenIdConnectConfiguration? _configuration;

    private async ValueTask<IReadOnlyList<RsaSecurityKey>> GetKeysAsync(CancellationToken cancellationToken)
    {
        if (_keys.Length == 0 || (_refreshRequested && clock.GetUtcNow() - _loadedAt > ReloadInterval))
        {
            _refreshRequested = false;
            await LoadAsync(cancellationToken);
        }
        return _keys;
    }

    public async Task<OpenIdConnectConfiguration> GetConfigurationAsync(CancellationToken cancel)
    {
        await GetKeysAsync(cancel);
        return _configuration!;
    }

    public void RequestRefresh() => _refreshRequested = true;

    public async Task<SigningCredentials> SigningCredentialsAsync(CancellationToken cancellationToken)
    {
        var keys = await GetKeysAsync(cancellationToken);
        return new SigningCredentials(keys[^1], SecurityAlgorithms.RsaSha256);
    }

    /// <summary>The public halves, as a JWKS document.</summary>
    public async Task<object> JwksAsync(CancellationToken cancellationToken)
    {
        var keys = await GetKeysAsync(cancellationToken);
        return new
        {
            keys = keys.Select(k =>
            {
                var p = k.Rsa.ExportParameters(includePrivateParameters: false);
                return new { kty = "RSA", use = "sig", alg = "RS256", kid = k.KeyId, n = Base64UrlEncoder.Encode(p.Modulus), e = Base64UrlEncoder.Encode(p.Exponent) };
            }),
        };
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await using var connection = await db.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using (var lockCommand = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({LockKey})", connection, transaction))
            {
                await lockCommand.ExecuteNonQueryAsync(cancellationToken);
            }
            var keys = await ReadAsync(connection, transaction, cancellationToken);
            if (keys.Count == 0)
            {
                using var rsa = RSA.Create(2048);
                await using var insert = new NpgsqlCommand("INSERT INTO signing_keys (kid, private_key) VALUES ($1, $2)", connection, transaction)
                {
                    Parameters = { new() { Value = RandomNumberGenerator.GetHexString(16, lowercase: true) }, new() { Value = rsa.ExportPkcs8PrivateKeyPem() } },
                };
                await insert.ExecuteNonQueryAsync(cancellationToken);
                keys = await ReadAsync(connection, transaction, cancellationToken);
            }
            await transaction.CommitAsync(cancellationToken);
            var configuration = new OpenIdConnectConfiguration();
            foreach (var key in keys)
            {
                configuration.SigningKeys.Add(key);
            }
            _configuration = configuration; // before the keys: whoever sees the new keys also sees their configuration
            _keys = [.. keys];
            _loadedAt = clock.GetUtcNow();
        }
        finally
        {
            _gate.Release();
        }
    }

    private static async Task<List<RsaSecurityKey>> ReadAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        var keys = new List<RsaSecurityKey>();
        await using var select = new NpgsqlCommand("SELECT kid, private_key FROM signing_keys ORDER BY created_at", connection, transaction);
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var rsa = RSA.Create();
            rsa.ImportFromPem(reader.GetString(1));
            keys.Add(new RsaSecurityKey(rsa) { KeyId = reader.GetString(0) });
        }
        return keys;
    }
}
