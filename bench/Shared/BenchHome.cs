using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace HomeIQ.Bench;

/// <summary>A user's home made for a benchmark through the gateway: the owner's token, a hub key and thermometers.</summary>
internal sealed record BenchHome(Guid HomeId, string Token, string HubKey, Guid[] Devices)
{
    /// <summary>Registers a user, creates a home with a hub key and <paramref name="deviceCount"/> thermometers (temperature, °C, −40…85).</summary>
    public static async Task<BenchHome> CreateAsync(HttpClient gateway, int deviceCount)
    {
        var email = $"bench-{Guid.NewGuid():N}@example.test";
        (await gateway.PostAsJsonAsync("/api/v1/auth/register", new { email, password = "benchmark password", displayName = "Bench" })).EnsureSuccessStatusCode();
        var login = await (await gateway.PostAsJsonAsync("/api/v1/auth/login", new { email, password = "benchmark password" })).Content.ReadFromJsonAsync<JsonElement>();
        gateway.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", login.GetProperty("accessToken").GetString());
        var created = await (await gateway.PostAsJsonAsync("/api/v1/homes", new { name = "Bench home" })).Content.ReadFromJsonAsync<JsonElement>();
        var homeId = created.GetProperty("home").GetProperty("id").GetGuid();
        var token = created.GetProperty("tokens").GetProperty("accessToken").GetString()!;
        gateway.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var key = await (await gateway.PostAsJsonAsync($"/api/v1/homes/{homeId}/hub-keys", new { name = "Bench hub" })).Content.ReadFromJsonAsync<JsonElement>();
        var devices = new Guid[deviceCount];
        for (var i = 0; i < deviceCount; i++)
        {
            using var response = await gateway.PostAsJsonAsync($"/api/v1/homes/{homeId}/devices", new
            {
                name = $"Bench thermometer {i}",
                kind = "sensor",
                capabilities = new[] { new { metric = "temperature", unit = "°C", min = -40.0, max = 85.0, writable = false } },
            });
            response.EnsureSuccessStatusCode();
            devices[i] = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        }
        return new BenchHome(homeId, token, key.GetProperty("key").GetString()!, devices);
    }
}
