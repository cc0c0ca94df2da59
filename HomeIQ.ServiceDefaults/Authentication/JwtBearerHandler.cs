using System.IdentityModel.Tokens.Jwt;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace HomeIQ.ServiceDefaults.Authentication;

/// <summary>
/// Validates <c>Authorization: Bearer</c> access tokens: RS256 signature against Identity's JWKS, issuer, audience and lifetime.
/// A failure is a 401 ProblemDetails with a <c>WWW-Authenticate: Bearer error="invalid_token"</c> header, never a 500.
/// </summary>
public sealed class JwtBearerHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> schemeOptions, ILoggerFactory logger, UrlEncoder encoder,
    IOptionsMonitor<HomeIQAuthenticationOptions> options, ISigningKeySource keys, ValidatedTokenCache validated)
    : AuthenticationHandler<AuthenticationSchemeOptions>(schemeOptions, logger, encoder)
{
    /// <summary>The scheme name, as JwtBearerDefaults.AuthenticationScheme.</summary>
    public const string SchemeName = "Bearer";

    private static readonly JwtSecurityTokenHandler Tokens = new() { MapInboundClaims = false };

    /// <inheritdoc />
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.NoResult();
        }
        var token = header["Bearer ".Length..].Trim();
        if (validated.TryGet(token, out var known))
        {
            return AuthenticateResult.Success(new AuthenticationTicket(known, SchemeName));
        }
        string? keyId;
        try
        {
            keyId = Tokens.ReadJwtToken(token).Header.Kid;
        }
        catch (ArgumentException)
        {
            // Also what ReadJwtToken throws for three dot-separated parts that are not base64url JSON.
            return AuthenticateResult.Fail("The access token is not a JWT.");
        }
        var settings = options.CurrentValue;
        var signingKeys = await keys.GetKeysAsync(keyId, Context.RequestAborted).ConfigureAwait(false);
        try
        {
            var principal = Tokens.ValidateToken(token, new TokenValidationParameters
            {
                ValidIssuer = settings.Issuer,
                ValidAudience = settings.Audience,
                IssuerSigningKeys = signingKeys,
                ValidAlgorithms = [SecurityAlgorithms.RsaSha256],
                ClockSkew = settings.ClockSkew,
                RequireExpirationTime = true,
                RequireSignedTokens = true,
                NameClaimType = "sub",
            }, out var securityToken);
            validated.Add(token, principal, securityToken.ValidTo);
            return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
        }
        catch (SecurityTokenExpiredException)
        {
            return AuthenticateResult.Fail("The access token has expired.");
        }
        catch (Exception ex) when (ex is SecurityTokenException or ArgumentException)
        {
            return AuthenticateResult.Fail($"The access token is not valid: {ex.GetType().Name.Replace("SecurityToken", "", StringComparison.Ordinal)}.");
        }
    }

    /// <inheritdoc />
    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var failure = (await HandleAuthenticateOnceSafeAsync().ConfigureAwait(false)).Failure?.Message;
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = failure is null
            ? "Bearer"
            : $"Bearer error=\"invalid_token\", error_description=\"{failure.Replace("\"", "'", StringComparison.Ordinal)}\"";
        await Results.Problem(title: "Unauthorized", detail: failure ?? "An access token is required: Authorization: Bearer <token>.", statusCode: 401)
            .ExecuteAsync(Context).ConfigureAwait(false);
    }

    /// <inheritdoc />
    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        Results.Problem(title: "Forbidden", detail: "Your role does not allow this.", statusCode: 403).ExecuteAsync(Context);
}

/// <summary>Reads HomeIQ's claims.</summary>
public static class HomeIQClaims
{
    /// <summary>The claim holding the home memberships: a JSON object of home id → role.</summary>
    public const string Homes = "homes";

    /// <summary>The user (or service client) id: the <c>sub</c> claim.</summary>
    public static string? GetUserId(this ClaimsPrincipal user) => user?.FindFirst("sub")?.Value;

    /// <summary>The user's role in a home (<c>owner</c>, <c>member</c>, <c>guest</c>), or null when they are not a member.</summary>
    public static string? GetHomeRole(this ClaimsPrincipal user, Guid homeId)
    {
        if (user?.FindFirst(Homes)?.Value is not { Length: > 0 } json)
        {
            return null;
        }
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(json);
            foreach (var home in document.RootElement.EnumerateObject())
            {
                if (Guid.TryParse(home.Name, out var id) && id == homeId)
                {
                    return home.Value.GetString();
                }
            }
        }
        catch (System.Text.Json.JsonException)
        {
        }
        return null;
    }
}
