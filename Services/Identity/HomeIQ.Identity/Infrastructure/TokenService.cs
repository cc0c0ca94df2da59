using System.IdentityModel.Tokens.Jwt;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using HomeIQ.ServiceDefaults.Authentication;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using Npgsql;

namespace HomeIQ.Identity.Infrastructure;

/// <summary>Tokens issued to a user: a short-lived access token and a rotating refresh token.</summary>
public sealed record TokenResponse(string AccessToken, string TokenType, int ExpiresIn, string? RefreshToken);

/// <summary>What a refresh attempt found.</summary>
internal enum RefreshOutcome
{
    Issued,
    Invalid,
    ReuseDetected,
}

/// <summary>
/// Issues RS256 access tokens (with the user's home roles in the <c>homes</c> claim) and refresh tokens stored hashed.
/// A refresh token is used once: refreshing marks it used and issues the next one in the same family. Presenting a used
/// token again means it was stolen (or replayed), so the whole family is revoked and the user must log in again.
/// </summary>
internal sealed class TokenService(SigningKeyStore keys, IOptions<IdentitySettings> settings, IOptions<HomeIQAuthenticationOptions> auth, TimeProvider clock)
{
    public const string ClientIdClaim = "client_id";
    private static readonly JwtSecurityTokenHandler Handler = new() { MapInboundClaims = false };

    public async Task<TokenResponse> IssueAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid userId, Guid? family, CancellationToken cancellationToken)
    {
        string email, name;
        await using (var user = new NpgsqlCommand("SELECT email, display_name FROM users WHERE id = $1", connection, transaction) { Parameters = { new() { Value = userId } } })
        await using (var reader = await user.ExecuteReaderAsync(cancellationToken))
        {
            await reader.ReadAsync(cancellationToken);
            (email, name) = (reader.GetString(0), reader.GetString(1));
        }
        var access = await AccessTokenAsync(connection, transaction, userId, email, name, cancellationToken);
        var refresh = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        await using (var insert = new NpgsqlCommand(
                         "INSERT INTO refresh_tokens (token_hash, family_id, user_id, expires_at) VALUES ($1, $2, $3, $4)", connection, transaction)
                     {
                         Parameters =
                         {
                             new() { Value = Hash(refresh) }, new() { Value = family ?? Guid.NewGuid() }, new() { Value = userId },
                             new() { Value = clock.GetUtcNow() + settings.Value.RefreshTokenLifetime },
                         },
                     })
        {
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }
        return access with { RefreshToken = refresh };
    }

    /// <summary>An access token alone, e.g. after the user's homes changed.</summary>
    public async Task<TokenResponse> AccessTokenAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid userId, string email, string name,
        CancellationToken cancellationToken)
    {
        var homes = new Dictionary<string, string>();
        await using (var memberships = new NpgsqlCommand("SELECT home_id, role FROM memberships WHERE user_id = $1", connection, transaction)
                     { Parameters = { new() { Value = userId } } })
        await using (var reader = await memberships.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                homes[reader.GetGuid(0).ToString()] = reader.GetString(1);
            }
        }
        return await SignAsync(
            [new("sub", userId.ToString()), new("email", email), new("name", name), new(HomeIQClaims.Homes, JsonSerializer.Serialize(homes), JsonClaimValueTypes.Json)],
            cancellationToken);
    }

    /// <summary>A service token (client-credentials grant): the client id is the subject.</summary>
    public Task<TokenResponse> ServiceTokenAsync(string clientId, CancellationToken cancellationToken) =>
        SignAsync([new("sub", clientId), new(ClientIdClaim, clientId), new("scope", "homeiq.internal")], cancellationToken);

    public async Task<(RefreshOutcome Outcome, TokenResponse? Tokens)> RefreshAsync(NpgsqlDataSource db, string refreshToken, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        Guid family, userId;
        await using (var select = new NpgsqlCommand(
                         "SELECT family_id, user_id, expires_at, used_at, revoked_at FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE", connection, transaction)
                     { Parameters = { new() { Value = Hash(refreshToken) } } })
        await using (var reader = await select.ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken))
            {
                return (RefreshOutcome.Invalid, null);
            }
            (family, userId) = (reader.GetGuid(0), reader.GetGuid(1));
            var expired = reader.GetFieldValue<DateTimeOffset>(2) < clock.GetUtcNow();
            var used = !reader.IsDBNull(3);
            var revoked = !reader.IsDBNull(4);
            await reader.CloseAsync();
            if (used && !revoked)
            {
                await using var revoke = new NpgsqlCommand("UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL", connection, transaction)
                { Parameters = { new() { Value = family } } };
                await revoke.ExecuteNonQueryAsync(cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                return (RefreshOutcome.ReuseDetected, null);
            }
            if (used || revoked || expired)
            {
                return (RefreshOutcome.Invalid, null);
            }
        }
        await using (var markUsed = new NpgsqlCommand("UPDATE refresh_tokens SET used_at = now() WHERE token_hash = $1", connection, transaction)
                     { Parameters = { new() { Value = Hash(refreshToken) } } })
        {
            await markUsed.ExecuteNonQueryAsync(cancellationToken);
        }
        var tokens = await IssueAsync(connection, transaction, userId, family, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (RefreshOutcome.Issued, tokens);
    }

    public static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    private async Task<TokenResponse> SignAsync(IEnumerable<Claim> claims, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var lifetime = settings.Value.AccessTokenLifetime;
        var token = Handler.CreateEncodedJwt(new SecurityTokenDescriptor
        {
            Issuer = auth.Value.Issuer,
            Audience = auth.Value.Audience,
            Subject = new ClaimsIdentity(claims.Append(new Claim("jti", Guid.NewGuid().ToString("N")))),
            IssuedAt = now,
            NotBefore = now,
            Expires = now + lifetime,
            SigningCredentials = await keys.SigningCredentialsAsync(cancellationToken),
        });
        return new TokenResponse(token, "Bearer", (int)lifetime.TotalSeconds, null);
    }
}
