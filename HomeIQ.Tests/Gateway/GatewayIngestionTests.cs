using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using HomeIQ.Tests.Identity;
using HomeIQ.Tests.Integration;

namespace HomeIQ.Tests.Gateway;

/// <summary>Hub keys through the gateway: they open the ingestion routes and nothing else.</summary>
public sealed class GatewayIngestionTests(AppHostFixture fixture)
{
    [Fact]
    public async Task AHubKeyIngestsThroughTheGatewayButIsNoCredentialForTheDevicesRoutes()
    {
        var ct = TestApps.Timeout();
        await fixture.App.WaitForEveryReplicaHealthyAsync("ingestion", ct);
        var gateway = new IdentityClient(fixture.App.CreateHttpClient("gateway"));
        var (homeId, _, hubKey, deviceId) = await gateway.CreateHubHomeAsync();

        using var ingest = new HttpRequestMessage(HttpMethod.Post, "/api/v1/ingest/readings")
        {
            Content = JsonContent.Create(new { readings = new[] { new { deviceId, metric = "temperature", value = 21.5, unit = "°C", timestamp = DateTimeOffset.UtcNow } } }),
        };
        ingest.Headers.Add("X-Hub-Key", hubKey);
        using var ingested = await gateway.Http.SendAsync(ingest, ct);
        using var devicesWithKey = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/homes/{homeId}/devices");
        devicesWithKey.Headers.Add("X-Hub-Key", hubKey);
        using var refused = await gateway.Http.SendAsync(devicesWithKey, ct);
        using var noKey = await gateway.Http.PostAsJsonAsync("/api/v1/ingest/readings", new { readings = Array.Empty<object>() }, ct);

        Assert.Equal(HttpStatusCode.Accepted, ingested.StatusCode);
        Assert.Equal(1, (await ingested.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("accepted").GetInt32());
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, noKey.StatusCode);
        Assert.Equal("application/problem+json", noKey.Content.Headers.ContentType?.MediaType);
    }
}
