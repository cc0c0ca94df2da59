using System.Security.Claims;
using System.Text.Encodings.Web;
using HomeIQ.Ingestion.Pipeline;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace HomeIQ.Ingestion.Infrastructure;

/// <summary>
/// Authenticates hubs by the <c>X-Hub-Key</c> header against Identity (cached, see <see cref="HubKeys"/>). The principal carries
/// the key's home (<see cref="HomeIdClaim"/>) and key id. A missing or unknown key is a 401 ProblemDetails; Identity being
/// unreachable for a key not in the cache is a 503 with <c>Retry-After</c>, because the key may well be valid.
/// </summary>
internal sealed class HubKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> schemeOptions, ILoggerFactory logger, UrlEncoder encoder, HubKeys hubKeys, IOptions<IngestionOptions> options)
    : AuthenticationHandler<AuthenticationSchemeOptions>(schemeOptions, logger, encoder)
{
    public const string SchemeName = "HubKey";
    public const string HeaderName = "X-Hub-Key";
    public const string HomeIdClaim = "home_id";
    public const string KeyIdClaim = "hub_key_id";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var key = Request.Headers[HeaderName].ToString().Trim();
        if (key.Length == 0)
        {
            return AuthenticateResult.NoResult();
        }
        HubKeyOwner? owner;
        try
        {
            owner = await hubKeys.ValidateAsync(key).ConfigureAwait(false);
        }
        catch (IdentityUnavailableException ex)
        {
            Logger.LogWarning("Hub key not validated: {Reason}", ex.Message);
            return AuthenticateResult.Fail(new IngestUnavailableException("Identity could not validate the hub key; try again shortly.", options.Value.RetryAfter, ex));
        }
        if (owner is null)
        {
            return AuthenticateResult.Fail("The hub key is unknown or revoked.");
        }
        var identity = new ClaimsIdentity(
            [new Claim(HomeIdClaim, owner.HomeId.ToString()), new Claim(KeyIdClaim, owner.KeyId.ToString()), new Claim("sub", "hub:" + owner.KeyId)], SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var failure = (await HandleAuthenticateOnceSafeAsync().ConfigureAwait(false)).Failure;
        if (failure is IngestUnavailableException unavailable)
        {
            await Apis.IngestProblems.Unavailable(Context, unavailable).ExecuteAsync(Context).ConfigureAwait(false);
            return;
        }
        Response.Headers.WWWAuthenticate = SchemeName;
        await Results.Problem(title: "Unauthorized", statusCode: StatusCodes.Status401Unauthorized,
                detail: failure?.Message ?? $"A hub key is required: {HeaderName}: <key>.")
            .ExecuteAsync(Context).ConfigureAwait(false);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        Results.Problem(title: "Forbidden", statusCode: StatusCodes.Status403Forbidden).ExecuteAsync(Context);
}

/// <summary>The ingestion routes' policy and the hub's home.</summary>
internal static class HubKeyPrincipal
{
    /// <summary>Only hub keys: a user's bearer token does not ingest.</summary>
    public const string Policy = "HubKey";

    public static Guid HomeId(this ClaimsPrincipal user) =>
        Guid.Parse(user.FindFirst(HubKeyAuthenticationHandler.HomeIdClaim)?.Value ?? throw new InvalidOperationException("Not a hub-key principal."));
}
