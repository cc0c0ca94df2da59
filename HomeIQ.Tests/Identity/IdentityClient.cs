using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace HomeIQ.Tests.Identity;

/// <summary>A user of the real Identity service, for the tests: each test registers its own.</summary>
internal sealed class IdentityClient(HttpClient http)
{
    public HttpClient Http => http;

    public static string NewEmail() => $"user-{Guid.NewGuid():N}@example.test";

    public async Task<JsonElement> RegisterAndLoginAsync(string email, string password = "correct horse battery")
    {
        var ct = TestContext.Current.CancellationToken;
        (await http.PostAsJsonAsync("/api/v1/auth/register", new { email, password, displayName = "Test User" }, ct)).EnsureSuccessStatusCode();
        return await LoginAsync(email, password);
    }

    public async Task<JsonElement> LoginAsync(string email, string password)
    {
        var ct = TestContext.Current.CancellationToken;
        using var response = await http.PostAsJsonAsync("/api/v1/auth/login", new { email, password }, ct);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<JsonElement>(ct);
    }

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? token, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        return await http.SendAsync(request, TestContext.Current.CancellationToken);
    }

    /// <summary>Creates a home; returns its id and the owner's fresh access token (which now carries the home).</summary>
    public async Task<(Guid HomeId, string Token)> CreateHomeAsync(string token, string name = "Lake house")
    {
        using var response = await SendAsync(HttpMethod.Post, "/api/v1/homes", token, new { name });
        response.EnsureSuccessStatusCode();
        var created = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        return (created.GetProperty("home").GetProperty("id").GetGuid(), created.GetProperty("tokens").GetProperty("accessToken").GetString()!);
    }

    /// <summary>A new user's home with a hub key and one thermometer, as a hub would be set up.</summary>
    public async Task<(Guid HomeId, string Token, string HubKey, Guid DeviceId)> CreateHubHomeAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        var (homeId, token) = await CreateHomeAsync((await RegisterAndLoginAsync(NewEmail())).GetProperty("accessToken").GetString()!);
        using var key = await SendAsync(HttpMethod.Post, $"/api/v1/homes/{homeId}/hub-keys", token, new { name = "Hub" });
        Assert.Equal(System.Net.HttpStatusCode.Created, key.StatusCode);
        var hubKey = (await key.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("key").GetString()!;
        using var device = await SendAsync(HttpMethod.Post, $"/api/v1/homes/{homeId}/devices", token,
            new { name = "Thermometer", kind = "sensor", capabilities = new[] { new { metric = "temperature", unit = "°C", min = -40.0, max = 85.0 } } });
        device.EnsureSuccessStatusCode();
        return (homeId, token, hubKey, (await device.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("id").GetGuid());
    }
}
