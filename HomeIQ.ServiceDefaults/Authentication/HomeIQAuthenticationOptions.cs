namespace HomeIQ.ServiceDefaults.Authentication;

/// <summary>How services validate the access tokens Identity issues (section <c>Authentication</c>).</summary>
/// <remarks>
/// The token contract: RS256 JWTs from Identity with <c>iss</c> = <see cref="Issuer"/>, <c>aud</c> = <see cref="Audience"/>,
/// <c>sub</c> = the user (or service client) id, and a <c>homes</c> claim holding a JSON object of home id → role
/// (<c>owner</c>, <c>member</c>, <c>guest</c>). Access tokens are short-lived, so a membership change reaches every service
/// within one token lifetime without any service calling Identity per request.
/// </remarks>
public sealed class HomeIQAuthenticationOptions
{
    /// <summary>The expected issuer.</summary>
    public string Issuer { get; set; } = "homeiq-identity";

    /// <summary>The expected audience.</summary>
    public string Audience { get; set; } = "homeiq";

    /// <summary>Where the signing keys are published; resolved through service discovery.</summary>
    public Uri JwksUri { get; set; } = new("http://identity/.well-known/jwks.json");

    /// <summary>How long fetched keys are trusted before they are fetched again.</summary>
    public TimeSpan JwksRefreshInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The shortest time between two fetches forced by an unknown key id (a rotation, or a forged kid).</summary>
    public TimeSpan JwksMinimumRefetchInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Tolerated clock difference for expiry and not-before.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>How a service obtains its own service token from Identity (section <c>Authentication:Client</c>).</summary>
/// <remarks>
/// The AppHost gives each calling service a generated secret parameter: <c>Authentication__Client__Secret</c> on the service,
/// and the same value as <c>Identity__Clients__{name}</c> on Identity.
/// </remarks>
public sealed class ServiceClientOptions
{
    /// <summary>The client id registered with Identity (default: the service name).</summary>
    public string Id { get; set; } = "";

    /// <summary>The client secret.</summary>
    public string Secret { get; set; } = "";

    /// <summary>Identity's client-credentials endpoint, resolved through service discovery.</summary>
    public Uri TokenEndpoint { get; set; } = new("http://identity/api/v1/auth/token");

    /// <summary>How long before expiry a cached token is replaced.</summary>
    public TimeSpan RenewBefore { get; set; } = TimeSpan.FromSeconds(60);
}
