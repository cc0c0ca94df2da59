using HomeIQ.Contracts;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using static HomeIQ.Tests.Ingestion.IngestClient;

namespace HomeIQ.Tests.Ingestion;

/// <summary>HTTP batches against the real stack: hub keys, per-item validation, and what reaches the broker.</summary>
[Collection(IngestionCollection.Name)]
public sealed class IngestionTests(IngestionFixture fixture)
{
    [Fact]
    public async Task AValidBatchIsAcceptedOnlyOnceTheBrokerHasExactlyItsReadings()
    {
        var ct = TestContext.Current.CancellationToken;
        var home = await fixture.NewHubHomeAsync();
        await using var tap = await fixture.TapAsync();
        var now = DateTimeOffset.UtcNow;
        var batch = Enumerable.Range(0, 50).Select(i => Reading(home.DeviceId, "temperature", 20 + i * 0.1, "°C", now.AddSeconds(-i))).ToArray();

        using var response = await PostAsync(fixture.Ingestion(), home.HubKey, new { readings = batch });
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
        var published = await tap.ReadingsOfAsync(home.HomeId, atLeast: 50);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(50, body.GetProperty("accepted").GetInt32());
        Assert.Empty(body.GetProperty("rejected").EnumerateArray());
        Assert.Equal(50, published.Count);
        Assert.Equal(Enumerable.Range(0, 50).Select(i => Math.Round(20 + i * 0.1, 6)), published.Select(r => Math.Round(r.Value, 6)));
        Assert.All(published, r => Assert.Equal(home.DeviceId, r.DeviceId));
        // The batch crossed the broker in its compact form, and arrived whole: the same devices, units and timestamps.
        Assert.Equal([SensorReadingsBinary.ContentType], tap.ContentTypes);
        Assert.Equal(Enumerable.Range(0, 50).Select(i => ("°C", now.AddSeconds(-i))), published.Select(r => (r.Unit, r.Timestamp)));
    }

    [Fact]
    public async Task EachInvalidReadingIsRejectedWithItsCodeAndTheValidOnesArePublished()
    {
        var ct = TestContext.Current.CancellationToken;
        var home = await fixture.NewHubHomeAsync();
        var other = await fixture.NewHubHomeAsync();
        await using var tap = await fixture.TapAsync();
        var now = DateTimeOffset.UtcNow;
        object[] batch =
        [
            Reading(home.DeviceId, "temperature", 21.5, "°C", now),                 // 0 valid
            Reading(Guid.NewGuid(), "temperature", 21.5, "°C", now),                // 1 unknown-device
            Reading(other.DeviceId, "temperature", 21.5, "°C", now),                // 2 another home's device: unknown-device
            Reading(home.DeviceId, "co2", 400, "ppm", now),                          // 3 unknown-metric
            Reading(home.DeviceId, "temperature", 70, "°F", now),                    // 4 unit-mismatch
            Reading(home.DeviceId, "temperature", 120, "°C", now),                   // 5 out-of-range (above)
            Reading(home.DeviceId, "humidity", -1, "%", now),                        // 6 out-of-range (below)
            Reading(home.DeviceId, "temperature", 20, "°C", now.AddHours(1)),        // 7 future-timestamp
            Reading(home.DeviceId, "temperature", 20, "°C", now.AddDays(-8)),        // 8 too-old
            Reading(home.DeviceId, "", 20, "°C", now),                               // 9 invalid
            Reading(home.DeviceId, "pressure", 1013.25, "hPa", now),                 // 10 valid (no range)
            Reading(home.DeviceId, "humidity", 100, "%", now.AddMinutes(4)),         // 11 valid (bounds inclusive, within skew)
            Reading(home.DeviceId, "pressure", 12345.678, "hPa", now),               // 12 not-finite: sent as 1e400, which JSON parsers read as infinity
        ];
        var json = System.Text.Json.JsonSerializer.Serialize(new { readings = batch }, JsonSerializerOptions.Web).Replace("12345.678", "1e400", StringComparison.Ordinal);

        using var response = await PostRawAsync(fixture.Ingestion(), home.HubKey, json);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
        var published = await tap.ReadingsOfAsync(home.HomeId, atLeast: 3);
        var leaked = await tap.ReadingsOfAsync(other.HomeId, atLeast: 0, wait: TimeSpan.FromMilliseconds(500));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(3, body.GetProperty("accepted").GetInt32());
        var rejected = body.GetProperty("rejected").EnumerateArray().ToDictionary(r => r.GetProperty("index").GetInt32(), r => r.GetProperty("code").GetString());
        Assert.Equal(new Dictionary<int, string?>
        {
            [1] = "unknown-device", [2] = "unknown-device", [3] = "unknown-metric", [4] = "unit-mismatch", [5] = "out-of-range",
            [6] = "out-of-range", [7] = "future-timestamp", [8] = "too-old", [9] = "invalid", [12] = "not-finite",
        }, rejected);
        Assert.All(body.GetProperty("rejected").EnumerateArray(), r => Assert.False(string.IsNullOrWhiteSpace(r.GetProperty("message").GetString())));
        Assert.Equal(new[] { "temperature", "pressure", "humidity" }, published.Select(r => r.Metric));
        Assert.Empty(leaked);
    }

    [Fact]
    public async Task AHubKeyOfOneHomeCannotIngestForAnotherHomesDeviceAndLearnsNothingAboutIt()
    {
        var ct = TestContext.Current.CancellationToken;
        var home = await fixture.NewHubHomeAsync();
        var other = await fixture.NewHubHomeAsync();

        using var foreign = await PostAsync(fixture.Ingestion(), home.HubKey, new { readings = new[] { Reading(other.DeviceId, "temperature", 20, "°C") } });
        using var missing = await PostAsync(fixture.Ingestion(), home.HubKey, new { readings = new[] { Reading(Guid.NewGuid(), "temperature", 20, "°C") } });
        var foreignBody = await foreign.Content.ReadFromJsonAsync<JsonElement>(ct);
        var missingBody = await missing.Content.ReadFromJsonAsync<JsonElement>(ct);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, foreign.StatusCode);
        Assert.Equal("application/problem+json", foreign.Content.Headers.ContentType?.MediaType);
        var foreignRejection = Assert.Single(foreignBody.GetProperty("rejected").EnumerateArray());
        var missingRejection = Assert.Single(missingBody.GetProperty("rejected").EnumerateArray());
        Assert.Equal("unknown-device", foreignRejection.GetProperty("code").GetString());
        Assert.Equal(missingRejection.GetProperty("code").GetString(), foreignRejection.GetProperty("code").GetString());
        Assert.Equal(missingRejection.GetProperty("message").GetString(), foreignRejection.GetProperty("message").GetString());
    }

    [Fact]
    public async Task AMissingUnknownOrRevokedHubKeyIsRefusedWith401AndAUserTokenIsNoHubKey()
    {
        var ct = TestContext.Current.CancellationToken;
        var home = await fixture.NewHubHomeAsync();
        var revoked = await fixture.NewHubHomeAsync();
        var body = new { readings = new[] { Reading(home.DeviceId, "temperature", 20, "°C") } };
        using (var revoke = await fixture.Identity().SendAsync(HttpMethod.Delete, $"/api/v1/homes/{revoked.HomeId}/hub-keys/{revoked.KeyId}", revoked.OwnerToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        }

        using var none = await PostAsync(fixture.Ingestion(), null, body);
        using var unknown = await PostAsync(fixture.Ingestion(), "hiq_" + Guid.NewGuid().ToString("N"), body);
        using var garbage = await PostAsync(fixture.Ingestion(), new string('x', 5000), body);
        using var revokedKey = await PostAsync(fixture.Ingestion(), revoked.HubKey, new { readings = new[] { Reading(revoked.DeviceId, "temperature", 20, "°C") } });
        using var bearer = new HttpRequestMessage(HttpMethod.Post, "/api/v1/ingest/readings") { Content = JsonContent.Create(body) };
        bearer.Headers.Authorization = new("Bearer", home.OwnerToken);
        using var withToken = await fixture.Ingestion().SendAsync(bearer, ct);
        using var valid = await PostAsync(fixture.Ingestion(), home.HubKey, body);

        foreach (var refused in new[] { none, unknown, garbage, revokedKey, withToken })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        }
        Assert.Equal(HttpStatusCode.Accepted, valid.StatusCode);
    }

    [Fact]
    public async Task ABatchAboveTheCapIs413AndAnEmptyOneIs400()
    {
        var home = await fixture.NewHubHomeAsync();
        var reading = Reading(home.DeviceId, "temperature", 20, "°C");

        using var tooMany = await PostAsync(fixture.Ingestion(), home.HubKey, new { readings = Enumerable.Repeat(reading, 5001).ToArray() });
        using var atCap = await PostAsync(fixture.Ingestion(), home.HubKey, new { readings = Enumerable.Repeat(reading, 5000).ToArray() });
        using var empty = await PostAsync(fixture.Ingestion(), home.HubKey, new { readings = Array.Empty<object>() });

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooMany.StatusCode);
        Assert.Equal("application/problem+json", tooMany.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.Accepted, atCap.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
    }

    [Fact]
    public async Task TheOpenApiDocumentDescribesTheBatchRoute()
    {
        var ct = TestContext.Current.CancellationToken;

        var document = await fixture.Ingestion().GetFromJsonAsync<JsonElement>("/openapi/v1.json", ct);

        var post = document.GetProperty("paths").GetProperty("/api/v1/ingest/readings").GetProperty("post");
        Assert.True(post.GetProperty("requestBody").GetProperty("content").TryGetProperty("application/json", out _));
        foreach (var status in new[] { "202", "400", "401", "413", "422", "503" })
        {
            Assert.True(post.GetProperty("responses").TryGetProperty(status, out _), $"no {status} response documented");
        }
    }
}
