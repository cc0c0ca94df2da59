using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using HomeIQ.Tests.Integration;

namespace HomeIQ.Tests.Identity;

/// <summary>The Identity service in the real AppHost composition, with its own database on the real Postgres.</summary>
public sealed partial class IdentityTests(AppHostFixture fixture)
{
    private IdentityClient Client() => new(fixture.App.CreateHttpClient("identity"));

    private static string Access(JsonElement tokens) => tokens.GetProperty("accessToken").GetString()!;

    private static string Refresh(JsonElement tokens) => tokens.GetProperty("refreshToken").GetString()!;

    [Fact]
    public async Task ARegisteredUserLogsInCreatesAHomeAndFindsItAsOwner()
    {
        var identity = Client();
        var email = IdentityClient.NewEmail();
        var tokens = await identity.RegisterAndLoginAsync(email);

        var (homeId, token) = await identity.CreateHomeAsync(Access(tokens));
        using var homes = await identity.SendAsync(HttpMethod.Get, "/api/v1/homes", token);
        using var members = await identity.SendAsync(HttpMethod.Get, $"/api/v1/homes/{homeId}/members", token);

        var list = await homes.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        var home = Assert.Single(list.EnumerateArray());
        Assert.Equal(homeId, home.GetProperty("id").GetGuid());
        Assert.Equal("owner", home.GetProperty("role").GetString());
        Assert.Equal(HttpStatusCode.OK, members.StatusCode);
        Assert.Contains(email, await members.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        Assert.Equal(3, Access(tokens).Split('.').Length);
    }

    [Fact]
    public async Task ARefreshTokenRotatesAndReusingAnOldOneRevokesTheWholeSession()
    {
        var identity = Client();
        var first = await identity.RegisterAndLoginAsync(IdentityClient.NewEmail());

        using var rotated = await identity.SendAsync(HttpMethod.Post, "/api/v1/auth/refresh", null, new { refreshToken = Refresh(first) });
        var second = await rotated.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        using var replay = await identity.SendAsync(HttpMethod.Post, "/api/v1/auth/refresh", null, new { refreshToken = Refresh(first) });
        using var afterReplay = await identity.SendAsync(HttpMethod.Post, "/api/v1/auth/refresh", null, new { refreshToken = Refresh(second) });

        Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
        Assert.NotEqual(Refresh(first), Refresh(second));
        Assert.Equal(HttpStatusCode.Unauthorized, replay.StatusCode);
        Assert.Contains("reused", await replay.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, afterReplay.StatusCode);
    }

    [Fact]
    public async Task RepeatedFailedLoginsLockTheAccountEvenForTheRightPassword()
    {
        var identity = Client();
        var email = IdentityClient.NewEmail();
        await identity.RegisterAndLoginAsync(email);
        for (var i = 0; i < 5; i++)
        {
            using var wrong = await identity.SendAsync(HttpMethod.Post, "/api/v1/auth/login", null, new { email, password = "not the password" });
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        }

        using var locked = await identity.SendAsync(HttpMethod.Post, "/api/v1/auth/login", null, new { email, password = "correct horse battery" });

        Assert.Equal((HttpStatusCode)423, locked.StatusCode);
        Assert.NotNull(locked.Headers.RetryAfter);
    }

    [Fact]
    public async Task AUserOfAnotherHomeGets404OnEveryHomeRouteOfTheOpenApiDocument()
    {
        var identity = Client();
        var (homeId, _) = await identity.CreateHomeAsync(Access(await identity.RegisterAndLoginAsync(IdentityClient.NewEmail())));
        var outsider = Access(await identity.RegisterAndLoginAsync(IdentityClient.NewEmail()));
        var routes = await HomeRoutes.FromOpenApiAsync(identity.Http, "/openapi/v1.json", homeId);

        var wrong = await HomeRoutes.NotAnswering404Async(identity, routes, outsider, new { name = "x", email = "x@example.test", role = "member" });

        Assert.Empty(wrong);
        Assert.True(routes.Count >= 6, $"only {routes.Count} home routes in the OpenAPI document");
        // Service-only routes tell a user nothing either: 403 for the user's own home and for one that does not exist alike.
        var owner = Access(await identity.RegisterAndLoginAsync(IdentityClient.NewEmail()));
        var (ownHome, ownerToken) = await identity.CreateHomeAsync(owner);
        foreach (var home in new[] { ownHome, Guid.NewGuid() })
        {
            foreach (var route in await HomeRoutes.FromOpenApiAsync(identity.Http, "/openapi/v1.json", home, internalOnly: true))
            {
                using var response = await identity.SendAsync(route.Method, route.Path, ownerToken);
                Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{route.Method} {route.Template} answered {(int)response.StatusCode} to a user");
            }
        }
    }

    [Fact]
    public async Task AMemberCanReadTheHomeButOnlyTheOwnerManagesIt()
    {
        var identity = Client();
        var (homeId, owner) = await identity.CreateHomeAsync(Access(await identity.RegisterAndLoginAsync(IdentityClient.NewEmail())));
        var memberEmail = IdentityClient.NewEmail();
        var memberTokens = await identity.RegisterAndLoginAsync(memberEmail);

        using var added = await identity.SendAsync(HttpMethod.Post, $"/api/v1/homes/{homeId}/members", owner, new { email = memberEmail, role = "member" });
        using var refreshed = await identity.SendAsync(HttpMethod.Post, "/api/v1/auth/refresh", null, new { refreshToken = Refresh(memberTokens) });
        var member = Access(await refreshed.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken));
        using var read = await identity.SendAsync(HttpMethod.Get, $"/api/v1/homes/{homeId}/members", member);
        using var manage = await identity.SendAsync(HttpMethod.Post, $"/api/v1/homes/{homeId}/hub-keys", member, new { name = "hub" });

        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, manage.StatusCode);
    }

    [Fact]
    public async Task AHubKeyIsShownOnceResolvesToItsHomeForServicesOnlyAndCanBeRevoked()
    {
        var ct = TestContext.Current.CancellationToken;
        var identity = Client();
        var userTokens = await identity.RegisterAndLoginAsync(IdentityClient.NewEmail());
        var (homeId, owner) = await identity.CreateHomeAsync(Access(userTokens));
        using var service = await identity.SendAsync(HttpMethod.Post, "/api/v1/auth/token", null, new { clientId = "test-client", clientSecret = fixture.IdentityClientSecret });
        var serviceToken = Access(await service.Content.ReadFromJsonAsync<JsonElement>(ct));
        using var wrongSecret = await identity.SendAsync(HttpMethod.Post, "/api/v1/auth/token", null, new { clientId = "test-client", clientSecret = "guess" });

        using var created = await identity.SendAsync(HttpMethod.Post, $"/api/v1/homes/{homeId}/hub-keys", owner, new { name = "Living room hub" });
        var hubKey = await created.Content.ReadFromJsonAsync<JsonElement>(ct);
        var key = hubKey.GetProperty("key").GetString()!;
        using var listed = await identity.SendAsync(HttpMethod.Get, $"/api/v1/homes/{homeId}/hub-keys", owner);
        using var valid = await identity.SendAsync(HttpMethod.Post, "/api/v1/internal/hub-keys/validate", serviceToken, new { key });
        using var byUser = await identity.SendAsync(HttpMethod.Post, "/api/v1/internal/hub-keys/validate", owner, new { key });
        using var revoked = await identity.SendAsync(HttpMethod.Delete, $"/api/v1/homes/{homeId}/hub-keys/{hubKey.GetProperty("id").GetGuid()}", owner);
        using var afterRevoke = await identity.SendAsync(HttpMethod.Post, "/api/v1/internal/hub-keys/validate", serviceToken, new { key });

        Assert.Equal(HttpStatusCode.OK, service.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongSecret.StatusCode);
        Assert.StartsWith("hiq_", key, StringComparison.Ordinal);
        Assert.DoesNotContain(key, await listed.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
        Assert.Equal(homeId, (await valid.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("homeId").GetGuid());
        Assert.Equal(HttpStatusCode.Forbidden, byUser.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, afterRevoke.StatusCode);
    }

    [Fact]
    public async Task TheJwksDocumentPublishesTheRsaSigningKeyWithoutItsPrivateHalf()
    {
        var body = await Client().Http.GetStringAsync("/.well-known/jwks.json", TestContext.Current.CancellationToken);
        var key = Assert.Single(JsonDocument.Parse(body).RootElement.GetProperty("keys").EnumerateArray());

        Assert.Equal("RSA", key.GetProperty("kty").GetString());
        Assert.Equal("RS256", key.GetProperty("alg").GetString());
        Assert.False(key.TryGetProperty("d", out _));
    }

    public static TheoryData<string, string, string?, bool> BadInput => new()
    {
        { "POST", "/api/v1/auth/register", "{not json", false },
        { "POST", "/api/v1/auth/register", "[]", false },
        { "POST", "/api/v1/auth/register", "{\"email\":42,\"password\":\"correct horse battery\",\"displayName\":\"x\"}", false },
        { "POST", "/api/v1/auth/register", "{\"email\":\"not-an-email\",\"password\":\"correct horse battery\",\"displayName\":\"x\"}", false },
        { "POST", "/api/v1/auth/register", "{\"email\":\"a@example.test\",\"password\":\"short\",\"displayName\":\"x\"}", false },
        { "POST", "/api/v1/auth/register", "{\"email\":\"a@example.test\",\"password\":\"correct horse battery\",\"displayName\":\"\"}", false },
        { "POST", "/api/v1/auth/register", "{\"email\":\"a@example.test\",\"password\":\"correct horse battery\"}", false },
        { "POST", "/api/v1/auth/register", "", false },
        { "POST", "/api/v1/auth/register", "{\"email\":\"" + new string('a', 5000) + "@example.test\",\"password\":\"correct horse battery\",\"displayName\":\"x\"}", false },
        { "POST", "/api/v1/auth/login", "{\"email\":null,\"password\":null}", false },
        { "POST", "/api/v1/auth/login", "{\"email\":\"nobody@example.test\",\"password\":\"" + new string('p', 10_000) + "\"}", false },
        { "POST", "/api/v1/auth/login", "\"just a string\"", false },
        { "POST", "/api/v1/auth/refresh", "{\"refreshToken\":123}", false },
        { "POST", "/api/v1/auth/refresh", "{\"refreshToken\":\"\"}", false },
        { "POST", "/api/v1/auth/refresh", "{\"refreshToken\":\"" + new string('r', 500) + "\"}", false },
        { "POST", "/api/v1/auth/token", "{\"clientId\":\"nobody\",\"clientSecret\":\"x\"}", false },
        { "POST", "/api/v1/homes", "{\"name\":\"\"}", true },
        { "POST", "/api/v1/homes", "{\"name\":" + "[1,2,3]" + "}", true },
        { "POST", "/api/v1/homes", "{\"name\":\"" + new string('h', 101) + "\"}", true },
        { "POST", "/api/v1/homes", "{broken", true },
        { "GET", "/api/v1/homes/not-a-guid/members", null, true },
        { "GET", "/api/v1/homes/00000000-0000-0000-0000-000000000000/members", null, true },
        { "DELETE", "/api/v1/homes/123/hub-keys/456", null, true },
        { "POST", "/api/v1/internal/hub-keys/validate", "{\"key\":\"hiq_x\"}", true },
        { "POST", "/api/v1/homes", "{\"name\":\"ok\"}", false },
    };

    [Theory]
    [MemberData(nameof(BadInput))]
    public async Task BadInputGetsA4xxProblemNeverA5xx(string method, string path, string? body, bool authenticated)
    {
        var identity = Client();
        var token = authenticated ? Access(await identity.RegisterAndLoginAsync(IdentityClient.NewEmail())) : null;
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }
        if (token is not null)
        {
            request.Headers.Authorization = new("Bearer", token);
        }

        using var response = await identity.Http.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.InRange((int)response.StatusCode, 400, 499);
    }
}
