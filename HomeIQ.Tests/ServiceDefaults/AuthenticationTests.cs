using System.IdentityModel.Tokens.Jwt;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Security.Cryptography;
using HomeIQ.ServiceDefaults.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.IdentityModel.Tokens;

namespace HomeIQ.Tests.ServiceDefaults;

/// <summary>
/// AddHomeIQAuthentication in a real web app on loopback: the same app plays Identity's JWKS endpoint, found through
/// service discovery as http://identity, so keys can be rotated during a test.
/// </summary>
public sealed class AuthenticationTests : IAsyncLifetime
{
    private static readonly Guid MyHome = Guid.NewGuid();
    private static readonly Guid OtherHome = Guid.NewGuid();
    private readonly List<RsaSecurityKey> _published = [];
    private WebApplication? _app;
    private HttpClient _http = null!;

    public async ValueTask InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.AddServiceDefaults();
        builder.AddHomeIQAuthentication();
        builder.Services.Configure<HomeIQAuthenticationOptions>(o => o.JwksMinimumRefetchInterval = TimeSpan.Zero);
        _app = builder.Build();
        _app.MapDefaultEndpoints();
        _app.MapGet("/.well-known/jwks.json", () => Results.Json(new { keys = _published.Select(Jwk) }));
        _app.MapGet("/me", (ClaimsPrincipal user) => user.GetUserId()).RequireAuthorization();
        _app.MapGet("/hubs/me", (ClaimsPrincipal user) => user.GetUserId()).RequireAuthorization();
        _app.MapGet("/api/v1/homes/{homeId}/devices", (Guid homeId) => "devices").RequireAuthorization(HomePolicies.HomeMember);
        _app.MapDelete("/api/v1/homes/{homeId}", (Guid homeId) => "deleted").RequireAuthorization(HomePolicies.HomeOwner);
        await _app.StartAsync(TestContext.Current.CancellationToken);
        var url = _app.Urls.First();
        builder.Configuration["Services:identity:http:0"] = url;
        _http = new HttpClient { BaseAddress = new Uri(url) };
        _published.Add(NewKey("key-1"));
    }

    private static RsaSecurityKey NewKey(string id) => new(RSA.Create(2048)) { KeyId = id };

    private static object Jwk(RsaSecurityKey key)
    {
        var p = key.Rsa.ExportParameters(false);
        return new { kty = "RSA", use = "sig", alg = "RS256", kid = key.KeyId, n = Base64UrlEncoder.Encode(p.Modulus), e = Base64UrlEncoder.Encode(p.Exponent) };
    }

    private static string Token(RsaSecurityKey key, string? homes = null, string audience = "homeiq", string issuer = "homeiq-identity", DateTime? expires = null)
    {
        var claims = new List<Claim> { new("sub", "user-42") };
        if (homes is not null)
        {
            claims.Add(new Claim(HomeIQClaims.Homes, homes, JsonClaimValueTypes.Json));
        }
        var expiry = expires ?? DateTime.UtcNow.AddMinutes(5);
        return new JwtSecurityTokenHandler().CreateEncodedJwt(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            Subject = new ClaimsIdentity(claims),
            NotBefore = expiry.AddMinutes(-10),
            IssuedAt = expiry.AddMinutes(-10),
            Expires = expiry,
            SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.RsaSha256),
        });
    }

    private async Task<HttpResponseMessage> GetAsync(string path, string? token, HttpMethod? method = null)
    {
        using var request = new HttpRequestMessage(method ?? HttpMethod.Get, path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        return await _http.SendAsync(request, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task AValidTokenIsAcceptedAndNamesTheUser()
    {
        using var response = await GetAsync("/me", Token(_published[0]));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("user-42", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task NoTokenIsA401WithABearerChallenge()
    {
        using var response = await GetAsync("/me", null);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task AHubRouteTakesTheTokenAsTheAccessTokenQueryParameterAndAnApiRouteDoesNot()
    {
        var token = Uri.EscapeDataString(Token(_published[0]));
        using var hub = await GetAsync($"/hubs/me?access_token={token}", null);
        using var hubAgain = await GetAsync($"/hubs/me?access_token={token}", null); // from the cache of validated tokens this time
        using var api = await GetAsync($"/me?access_token={token}", null);
        using var forged = await GetAsync($"/hubs/me?access_token={Uri.EscapeDataString(Token(NewKey("key-1")))}", null);

        Assert.Equal(HttpStatusCode.OK, hub.StatusCode);
        Assert.Equal("user-42", await hubAgain.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
    }

    public static TheoryData<string> BadTokens => ["expired", "wrong-signature", "wrong-audience", "wrong-issuer", "garbage"];

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task AnInvalidTokenIsA401ThatSaysWhy(string kind)
    {
        var forged = NewKey("key-1"); // same key id, different key
        var token = kind switch
        {
            "expired" => Token(_published[0], expires: DateTime.UtcNow.AddMinutes(-5)),
            "wrong-signature" => Token(forged),
            "wrong-audience" => Token(_published[0], audience: "someone-else"),
            "wrong-issuer" => Token(_published[0], issuer: "evil"),
            _ => "not.a.jwt",
        };

        using var response = await GetAsync("/me", token);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("invalid_token", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ATokenSignedWithARotatedInKeyIsAcceptedAfterTheKeysAreFetchedAgain()
    {
        using var before = await GetAsync("/me", Token(_published[0]));
        var rotated = NewKey("key-2");
        _published.Add(rotated);

        // The unknown key id makes JwtBearer fetch the keys again in the background; the token is accepted once they arrive.
        var token = Token(rotated);
        var after = await GetAsync("/me", token);
        for (var attempt = 0; attempt < 50 && after.StatusCode == HttpStatusCode.Unauthorized; attempt++)
        {
            after.Dispose();
            await Task.Delay(100, TestContext.Current.CancellationToken);
            after = await GetAsync("/me", token);
        }
        using var _ = after;

        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public async Task AUserOfAnotherHomeGets404AndNeverLearnsTheHomeExists()
    {
        var token = Token(_published[0], homes: $"{{\"{OtherHome}\":\"owner\"}}");

        using var devices = await GetAsync($"/api/v1/homes/{MyHome}/devices", token);
        using var delete = await GetAsync($"/api/v1/homes/{MyHome}", token, HttpMethod.Delete);
        using var notAGuid = await GetAsync("/api/v1/homes/not-a-home/devices", token);

        Assert.Equal(HttpStatusCode.NotFound, devices.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, delete.StatusCode);
        Assert.NotEqual(HttpStatusCode.OK, notAGuid.StatusCode);
        Assert.True((int)notAGuid.StatusCode is >= 400 and < 500);
    }

    [Theory]
    [InlineData("owner", HttpStatusCode.OK, HttpStatusCode.OK)]
    [InlineData("member", HttpStatusCode.OK, HttpStatusCode.Forbidden)]
    [InlineData("guest", HttpStatusCode.OK, HttpStatusCode.Forbidden)]
    public async Task HomeRolesGrantWhatTheirPolicyAllows(string role, HttpStatusCode read, HttpStatusCode ownerOnly)
    {
        var token = Token(_published[0], homes: $"{{\"{MyHome}\":\"{role}\"}}");

        using var devices = await GetAsync($"/api/v1/homes/{MyHome}/devices", token);
        using var delete = await GetAsync($"/api/v1/homes/{MyHome}", token, HttpMethod.Delete);

        Assert.Equal(read, devices.StatusCode);
        Assert.Equal(ownerOnly, delete.StatusCode);
    }

    public async ValueTask DisposeAsync()
    {
        _http?.Dispose();
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}
