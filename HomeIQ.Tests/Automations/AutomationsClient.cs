using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using HomeIQ.Tests.Identity;
using static HomeIQ.Tests.Anomalies.AnomaliesClient;

namespace HomeIQ.Tests.Automations;

/// <summary>A home with a hub and lamps, and the Automations API through the gateway, as an app uses it.</summary>
internal sealed class AutomationsHome(IdentityClient client, Guid homeId, string owner, string hubKey, Guid thermometer)
{
    public IdentityClient Client => client;
    public Guid HomeId => homeId;
    public string Owner => owner;
    public string HubKey => hubKey;
    public Guid Thermometer => thermometer;

    public static async Task<AutomationsHome> CreateAsync(HttpClient gateway)
    {
        var client = new IdentityClient(gateway);
        var (homeId, owner, hubKey, thermometer) = await client.CreateHubHomeAsync();
        return new AutomationsHome(client, homeId, owner, hubKey, thermometer);
    }

    public Uri StreamUri() =>
        new UriBuilder(client.Http.BaseAddress!) { Scheme = client.Http.BaseAddress!.Scheme == "https" ? "wss" : "ws", Path = "/api/v1/ingest/stream" }.Uri;

    public async Task<Guid> AddLampAsync(string name)
    {
        using var device = await client.SendAsync(HttpMethod.Post, $"/api/v1/homes/{homeId}/devices", owner,
            new { name, kind = "dimmer", capabilities = new[] { new { metric = "power", unit = "W", min = 0.0, max = 500.0 } } });
        Assert.Equal(HttpStatusCode.Created, device.StatusCode);
        return (await device.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("id").GetGuid();
    }

    /// <summary>
    /// A request to the Automations API with a token (the owner's by default), which must answer <paramref name="expected"/>. The test
    /// AppHost limits each user to 2 requests a second: a 429 is waited out as its Retry-After says, as a client would.
    /// </summary>
    public async Task<JsonElement> SendAsync(HttpMethod method, string path, object? body, HttpStatusCode expected, string? token = null)
    {
        var response = await client.SendAsync(method, $"/api/v1/homes/{homeId}/automations/{path}", token ?? owner, body);
        for (var attempt = 0; response.StatusCode == HttpStatusCode.TooManyRequests && attempt < 60; attempt++)
        {
            await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);
            response.Dispose();
            response = await client.SendAsync(method, $"/api/v1/homes/{homeId}/automations/{path}", token ?? owner, body);
        }
        using var _ = response;
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == expected, $"{method} {path}: {(int)response.StatusCode} {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    public async Task<Guid> CreateSceneAsync(string name, params object[] steps) =>
        (await SendAsync(HttpMethod.Post, "scenes", new { name, steps }, HttpStatusCode.Created)).GetProperty("id").GetGuid();

    public async Task<Guid> RunSceneAsync(Guid sceneId) =>
        (await SendAsync(HttpMethod.Post, $"scenes/{sceneId}/run", null, HttpStatusCode.Accepted)).GetProperty("id").GetGuid();

    public Task<JsonElement> RunAsync(Guid runId) => SendAsync(HttpMethod.Get, $"runs/{runId}", null, HttpStatusCode.OK);

    /// <summary>The run once it is over (succeeded, compensated or failed), or as it is after <paramref name="patience"/>.</summary>
    public Task<JsonElement> FinishedRunAsync(Guid runId, TimeSpan? patience = null) =>
        PollAsync(() => RunAsync(runId), r => r.GetProperty("status").GetString() is not ("running" or "compensating"), patience ?? TimeSpan.FromSeconds(60));

    public async Task<JsonElement[]> RunsAsync(string query = "")
    {
        var page = await SendAsync(HttpMethod.Get, "runs" + query, null, HttpStatusCode.OK);
        return [.. page.GetProperty("runs").EnumerateArray()];
    }

    /// <summary>
    /// Sends one temperature reading as the hub and waits until Readings has stored it (its latest value has that time): rules see what
    /// was stored, one newest value per device metric per stored batch, so a test that wants each reading seen sends them one by one.
    /// </summary>
    public async Task IngestStoredAsync(HttpClient gateway, double value, DateTimeOffset at)
    {
        await IngestAsync(gateway, hubKey, thermometer, [value], at, TimeSpan.Zero);
        var expected = DateTimeOffset.FromUnixTimeMilliseconds(at.ToUnixTimeMilliseconds());
        var stored = await PollAsync(async () =>
        {
            using var response = await client.SendAsync(HttpMethod.Get, $"/api/v1/homes/{homeId}/readings/latest?deviceId={thermometer}", owner);
            if (!response.IsSuccessStatusCode)
            {
                return (DateTimeOffset?)null;
            }
            var page = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
            return page.GetProperty("readings").EnumerateArray().Select(r => (DateTimeOffset?)r.GetProperty("timestamp").GetDateTimeOffset()).FirstOrDefault();
        }, t => t >= expected, TimeSpan.FromSeconds(60));
        Assert.True(stored >= expected, $"the reading of {at:O} was not stored within a minute");
    }

    public static object Command(Guid deviceId, string action, object? parameters = null) => new { type = "command", deviceId, action, parameters };

    /// <summary>The steps of a run as (phase, device, action, status).</summary>
    public static (string Phase, Guid Device, string Action, string Status)[] Steps(JsonElement run) =>
    [
        .. run.GetProperty("steps").EnumerateArray().Select(s => (s.GetProperty("phase").GetString()!, s.GetProperty("deviceId").GetGuid(),
            s.GetProperty("action").GetString()!, s.GetProperty("status").GetString()!)),
    ];
}
