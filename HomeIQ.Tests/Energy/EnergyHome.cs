using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using HomeIQ.Tests.Identity;

namespace HomeIQ.Tests.Energy;

/// <summary>A new user's home with a hub key, a power-metered heater and an energy meter, all made through the gateway.</summary>
internal sealed record EnergyHome(IdentityClient Client, Guid HomeId, string Token, string HubKey, Guid Heater, Guid Meter)
{
    /// <summary>
    /// Retried as a client would while a service answers 503: just after a test restarted Postgres, a service's first requests on
    /// its dead pooled connections do.
    /// </summary>
    public static async Task<EnergyHome> CreateAsync(HttpClient gateway)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await CreateOnceAsync(gateway);
            }
            catch (HttpRequestException ex) when (ex.StatusCode == HttpStatusCode.ServiceUnavailable && attempt < 10)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);
            }
        }
    }

    private static async Task<EnergyHome> CreateOnceAsync(HttpClient gateway)
    {
        var ct = TestContext.Current.CancellationToken;
        var client = new IdentityClient(gateway);
        var (homeId, token) = await client.CreateHomeAsync((await client.RegisterAndLoginAsync(IdentityClient.NewEmail())).GetProperty("accessToken").GetString()!);
        using var key = await client.SendAsync(HttpMethod.Post, $"/api/v1/homes/{homeId}/hub-keys", token, new { name = "Energy hub" });
        key.EnsureSuccessStatusCode();
        var hubKey = (await key.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("key").GetString()!;
        var heater = await DeviceAsync(client, homeId, token, "Heater", "switch", new { metric = "power", unit = "W", min = 0.0, max = 20000.0, writable = false });
        var meter = await DeviceAsync(client, homeId, token, "Meter", "meter", new { metric = "energy", unit = "kWh", min = 0.0, max = 1000000.0, writable = false });
        return new EnergyHome(client, homeId, token, hubKey, heater, meter);
    }

    private static async Task<Guid> DeviceAsync(IdentityClient client, Guid homeId, string token, string name, string kind, object capability)
    {
        using var device = await client.SendAsync(HttpMethod.Post, $"/api/v1/homes/{homeId}/devices", token, new { name, kind, capabilities = new[] { capability } });
        device.EnsureSuccessStatusCode();
        return (await device.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("id").GetGuid();
    }

    public static object Reading(Guid deviceId, string metric, double value, string unit, DateTimeOffset timestamp) =>
        new { deviceId, metric, value, unit, timestamp };

    /// <summary>Sends readings as the hub, waiting out the gateway's rate limit like a hub would.</summary>
    public async Task IngestAsync(params object[] readings)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/ingest/readings") { Content = JsonContent.Create(new { readings }) };
            request.Headers.Add("X-Hub-Key", HubKey);
            using var response = await Client.Http.SendAsync(request, TestContext.Current.CancellationToken);
            if (response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable && attempt < 30)
            {
                await Task.Delay(1000, TestContext.Current.CancellationToken);
                continue;
            }
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            return;
        }
    }

    /// <summary>A request with the given token (the owner's by default), retried while the gateway's per-user rate limit answers 429.</summary>
    public async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpMethod method, string path, object? body = null, string? token = null)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var response = await Client.SendAsync(method, path, token ?? Token, body);
            if (response.StatusCode == HttpStatusCode.TooManyRequests && attempt < 30)
            {
                await Task.Delay(1000, TestContext.Current.CancellationToken);
                continue;
            }
            var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
        }
    }

    public Task<(HttpStatusCode Status, JsonElement Body)> GetAsync(string pathUnderEnergy, string? token = null) =>
        SendAsync(HttpMethod.Get, $"/api/v1/homes/{HomeId}/energy/{pathUnderEnergy}", null, token);

    /// <summary>Polls a GET until <paramref name="done"/> holds for its body (then returns it), or the time is up (then returns the last body).</summary>
    public async Task<JsonElement> PollAsync(string pathUnderEnergy, Func<JsonElement, bool> done, TimeSpan? timeout = null)
    {
        var until = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(90));
        while (true)
        {
            var (status, body) = await GetAsync(pathUnderEnergy);
            if (status == HttpStatusCode.OK && done(body) || DateTime.UtcNow > until)
            {
                return body;
            }
            await Task.Delay(1000, TestContext.Current.CancellationToken);
        }
    }

    public static string Q(DateTimeOffset time) => Uri.EscapeDataString(time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture));
}
