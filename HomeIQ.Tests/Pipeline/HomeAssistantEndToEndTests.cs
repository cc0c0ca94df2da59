using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using HomeIQ.Tests.Identity;
using HomeIQ.Tests.Integration;

namespace HomeIQ.Tests.Pipeline;

/// <summary>
/// Home Assistant → the bridge in the real ingestion service (one of its two replicas holds the lease) → broker → readings,
/// queried through the gateway; the Home Assistant server restarts in the middle of the stream.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class HomeAssistantEndToEndTests(PipelineFixture fixture)
{
    [Fact]
    public async Task StatesFromHomeAssistantBecomeQueryableReadingsAcrossAServerRestart()
    {
        var ct = TestApps.Timeout(TimeSpan.FromMinutes(4));
        var home = await fixture.NewHomeAsync(deviceCount: 0);
        var server = fixture.HomeAssistant;
        await fixture.BridgeHomeAssistantAsync(home.HomeId, ct);
        await server.WaitForSubscribedAsync(ct);

        var start = DateTimeOffset.UtcNow.AddMinutes(-10);
        var emitted = new List<double>();
        var attributes = new { unit_of_measurement = "°C", device_class = "temperature", friendly_name = "Living room" };
        async Task EmitAsync(int from, int to)
        {
            for (var i = from; i < to; i++)
            {
                var value = Math.Round(19 + i * 0.05, 2);
                await server.EmitStateAsync("sensor.living_room_temperature", value.ToString(System.Globalization.CultureInfo.InvariantCulture), attributes, start.AddSeconds(i));
                emitted.Add(value);
            }
        }

        // The first states register the entity as a device and are stored; then Home Assistant restarts in the middle of the stream.
        // (What Home Assistant emits while no client is connected is gone: it has no replay. After reconnecting the bridge reads
        // every entity's current state again, and the store keeps a resent state once.)
        await EmitAsync(0, 40);
        Assert.Equal(emitted, await StoredUntilAsync(home, start, emitted.Count, ct));
        await server.RestartAsync(TimeSpan.FromSeconds(1));
        await server.WaitForSubscribedAsync(ct);
        await EmitAsync(40, 80);
        var stored = await StoredUntilAsync(home, start, emitted.Count, ct);

        // Every state before and after the restart, once each.
        Assert.Equal(emitted, stored);
        Assert.True(server.Connections >= 2, $"the bridge connected {server.Connections} time(s)");
    }

    /// <summary>The temperatures stored for the home since <paramref name="start"/>, once there are <paramref name="count"/> (or the test times out).</summary>
    private async Task<List<double>> StoredUntilAsync(IngestHome home, DateTimeOffset start, int count, CancellationToken ct)
    {
        var gateway = new IdentityClient(fixture.App.CreateHttpClient("gateway"));
        var from = Uri.EscapeDataString(start.AddMinutes(-1).ToString("O"));
        var to = Uri.EscapeDataString(DateTimeOffset.UtcNow.AddMinutes(1).ToString("O"));
        while (true)
        {
            using var response = await gateway.SendAsync(HttpMethod.Get, $"/api/v1/homes/{home.HomeId}/readings/raw?metric=temperature&from={from}&to={to}&limit=1000", home.Token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var page = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
            List<double> stored = [.. page.GetProperty("readings").EnumerateArray().Select(r => r.GetProperty("value").GetDouble())];
            if (stored.Count >= count)
            {
                return stored;
            }
            await Task.Delay(250, ct);
        }
    }
}
