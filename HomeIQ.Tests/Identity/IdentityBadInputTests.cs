using System.Net;
using System.Text;
using System.Text.Json;

namespace HomeIQ.Tests.Identity;

/// <summary>Text Postgres cannot store (U+0000), other control characters and blank names: a 400 ProblemDetails naming the field.</summary>
public sealed partial class IdentityTests
{
    public static TheoryData<string, string, string> UnstorableText => new()
    {
        { "/api/v1/auth/register", """{"email":"{new}","password":"correct horse battery","displayName":"Ann\u0000"}""", "displayName" },
        { "/api/v1/auth/register", """{"email":"{new}","password":"correct horse battery","displayName":"Ann\tLee"}""", "displayName" },
        { "/api/v1/auth/register", """{"email":"ann\u0000@example.test","password":"correct horse battery","displayName":"Ann"}""", "email" },
        { "/api/v1/auth/login", """{"email":"ann\u0000@example.test","password":"correct horse battery"}""", "email" },
        { "/api/v1/homes", """{"name":"Lake\u0000house"}""", "name" },
        { "/api/v1/homes", """{"name":" \t "}""", "name" },
        { "/api/v1/homes/{home}/members", """{"email":"ann\u0000@example.test","role":"member"}""", "email" },
        { "/api/v1/homes/{home}/members", """{"email":"{new}","role":"owner"}""", "role" },
        { "/api/v1/homes/{home}/members", """{"email":"  ","role":"guest"}""", "email" },
        { "/api/v1/homes/{home}/hub-keys", """{"name":"Hub\u0000"}""", "name" },
        { "/api/v1/homes/{home}/hub-keys", """{"name":"   "}""", "name" },
    };

    [Theory]
    [MemberData(nameof(UnstorableText))]
    public async Task UnstorableOrBlankTextGetsA400ProblemNamingOnlyThatField(string path, string body, string field)
    {
        var ct = TestContext.Current.CancellationToken;
        var identity = Client();
        var (homeId, token) = await identity.CreateHomeAsync(Access(await identity.RegisterAndLoginAsync(IdentityClient.NewEmail())));
        using var request = new HttpRequestMessage(HttpMethod.Post, path.Replace("{home}", homeId.ToString(), StringComparison.Ordinal))
        {
            Content = new StringContent(body.Replace("{new}", IdentityClient.NewEmail(), StringComparison.Ordinal), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new("Bearer", token);

        using var response = await identity.Http.SendAsync(request, ct);

        var answer = await response.Content.ReadAsStringAsync(ct);
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{path} answered {(int)response.StatusCode}: {answer}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal([field], JsonDocument.Parse(answer).RootElement.GetProperty("errors").EnumerateObject().Select(e => e.Name));
    }
}
