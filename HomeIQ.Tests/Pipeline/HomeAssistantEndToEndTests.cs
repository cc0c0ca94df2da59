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
        for (var i = 0; i < 40; i++)
        {
            var value = Math.Round(19 + i * 0.05, 2);
            await server.EmitStateAsync("sensor.living_room_temperature", value.ToString(System.Globalization.CultureInfo.InvariantCulture), attributes, start.AddSeconds(i));
            emitted.Add(value);
        }
        await server.RestartAsync(TimeSpan.FromSeconds(1));
        await server.WaitForSubscribedAsync(ct);
        for (var i = 40; i < 80; i++)
        {
            var value = Math.Round(19 + i * 0.05, 2);
            await server.EmitStateAsync("sensor.living_room_temperature", value.ToString(System.Globalization.CultureInfo.InvariantCulture), attributes, start.AddSeconds(i));
            emitted.Add(value);
        }

        var gateway = new IdentityClient(fixture.App.CreateHttpClient("gateway"));
        var from = Uri.EscapeDataString(start.AddMinutes(-1).ToString("O"));
        var to = Uri.EscapeDataString(DateTimeOffset.UtcNow.AddMinutes(1).ToString("O"));
        List<double> stored = [];
        while (stored.Count < emitted.Count)
        {
            await Task.Delay(250, ct);
            using var response = await gateway.SendAsync(HttpMethod.Get, $"/api/v1/homes/{home.HomeId}/readings/raw?metric=temperature&from={from}&to={to}&limit=1000", home.Token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var page = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
            stored = [.. page.GetProperty("readings").EnumerateArray().Select(r => r.GetProperty("value").GetDouble())];
        }

        // Every state before and after the restart, once each (the reconnect's get_states resends the last one: stored once).
        Assert.Equal(emitted, stored);
        Assert.True(server.Connections >= 2, $"the bridge connected {server.Connections} time(s)");
    }
}
