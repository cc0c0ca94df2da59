using System.Net.Http.Json;
using System.Text.Json;
using HomeIQ.Tests.Identity;
using HomeIQ.Tests.Integration;
using MQTTnet;
using MQTTnet.Protocol;

namespace HomeIQ.Tests.Mqtt;

/// <summary>
/// Home Assistant MQTT discovery against the real Mosquitto: a device publishes its retained discovery configs, then its states; both
/// ingestion replicas read every config, and the state topics they name become readings and states of <c>mqtt:ha/&lt;unique_id&gt;</c> devices.
/// </summary>
[Collection(MqttCollection.Name)]
public sealed class MqttDiscoveryTests(MqttFixture fixture)
{
    [Fact]
    public async Task RetainedSensorConfigsAndAStateMessageBecomeStoredReadingsOfRegisteredDevices()
    {
        var ct = TestApps.Timeout();
        var id = Guid.NewGuid().ToString("N")[..8];
        await using var device = await DiscoveryDevice.ConnectAsync(fixture.Broker, ct);
        // Two entities on one state topic, as ESPHome, Tasmota and Zigbee2MQTT publish them: abbreviated keys, a base topic, one template each.
        await device.PublishRetainedAsync($"homeassistant/sensor/climate-{id}/temperature/config", $$$"""
            {"~":"homeiq-test/climate-{{{id}}}","stat_t":"~/state","uniq_id":"climate-{{{id}}}-t","name":"Temperature","dev_cla":"temperature",
             "unit_of_meas":"°C","val_tpl":"{{ value_json.temperature | float | round(1) }}","dev":{"ids":["climate-{{{id}}}"],"name":"Climate {{{id}}}"}}
            """, ct);
        await device.PublishRetainedAsync($"homeassistant/sensor/climate-{id}/energy/config", $$$"""
            {"state_topic":"homeiq-test/climate-{{{id}}}/state","unique_id":"climate-{{{id}}}-e","device_class":"energy","unit_of_measurement":"Wh",
             "value_template":"{{ value_json['meter']['total'] }}","device":{"identifiers":["climate-{{{id}}}"],"name":"Climate {{{id}}}"}}
            """, ct);

        using var reporting = device.Report($"homeiq-test/climate-{id}/state", """{"temperature":21.5,"meter":{"total":6532}}""", ct);
        var temperature = await fixture.DeviceIdAsync($"mqtt:ha/climate-{id}-t", ct);
        var energy = await fixture.DeviceIdAsync($"mqtt:ha/climate-{id}-e", ct);
        var latest = await fixture.LatestAsync(l => Task.FromResult(l.Contains((temperature, "temperature", 21.5, "°C")) && l.Contains((energy, "energy", 6.532, "kWh"))), ct);
        await reporting.StopAsync();

        Assert.Contains((temperature, "temperature", 21.5, "°C"), latest);
        Assert.Contains((energy, "energy", 6.532, "kWh"), latest); // 6532 Wh
        Assert.DoesNotContain(latest, l => l.Device == temperature && l.Metric != "temperature");
        Assert.True(await fixture.StoredAsync(temperature, "temperature", ct) >= 1);
        var registered = await DeviceAsync(temperature, ct);
        Assert.Equal(($"Climate {id} Temperature", "sensor"), (registered.GetProperty("name").GetString(), registered.GetProperty("kind").GetString()));
        await device.ClearAsync(ct);
    }

    [Fact]
    public async Task ASwitchConfigAndItsStateMessagesGiveTheDeviceState()
    {
        var ct = TestApps.Timeout();
        var id = Guid.NewGuid().ToString("N")[..8];
        await using var device = await DiscoveryDevice.ConnectAsync(fixture.Broker, ct);
        await device.PublishRetainedAsync($"homeassistant/switch/relay-{id}/config", $$"""
            {"name":"Relay {{id}}","stat_t":"homeiq-test/relay-{{id}}/state","cmd_t":"homeiq-test/relay-{{id}}/set","pl_on":"1","pl_off":"0","uniq_id":"relay-{{id}}"}
            """, ct);

        var reporting = device.Report($"homeiq-test/relay-{id}/state", "1", ct);
        var relay = await fixture.DeviceIdAsync($"mqtt:ha/relay-{id}", ct);
        var on = await StateAsync(relay, s => s == "on", ct);
        await reporting.StopAsync();
        reporting.Dispose();
        reporting = device.Report($"homeiq-test/relay-{id}/state", "0", ct);
        var off = await StateAsync(relay, s => s == "off", ct);
        await reporting.StopAsync();
        reporting.Dispose();

        Assert.Equal(("on", "off"), (on, off));
        var registered = await DeviceAsync(relay, ct);
        Assert.Equal(($"Relay {id}", "switch"), (registered.GetProperty("name").GetString(), registered.GetProperty("kind").GetString()));
        await device.ClearAsync(ct);
    }

    [Fact]
    public async Task BadConfigsDoNotStopTheSubscription()
    {
        var ct = TestApps.Timeout();
        var id = Guid.NewGuid().ToString("N")[..8];
        await using var device = await DiscoveryDevice.ConnectAsync(fixture.Broker, ct);
        await device.PublishRetainedAsync($"homeassistant/sensor/broken-{id}/json/config", "{not json", ct);
        await device.PublishRetainedAsync($"homeassistant/sensor/broken-{id}/array/config", "[1,2]", ct);
        await device.PublishRetainedAsync($"homeassistant/sensor/broken-{id}/template/config", $$$"""
            {"stat_t":"homeiq-test/broken-{{{id}}}","uniq_id":"broken-{{{id}}}-template","dev_cla":"temperature","unit_of_meas":"°C","val_tpl":"{{ value_json.t * 10 }}"}
            """, ct);
        await device.PublishRetainedAsync($"homeassistant/sensor/broken-{id}/lux/config", $$"""
            {"stat_t":"homeiq-test/broken-{{id}}","uniq_id":"broken-{{id}}-lux","dev_cla":"illuminance","unit_of_meas":"lx"}
            """, ct);
        await device.PublishRetainedAsync($"homeassistant/sensor/after-{id}/config", $$"""
            {"stat_t":"homeiq-test/after-{{id}}","uniq_id":"after-{{id}}","dev_cla":"power","unit_of_meas":"kW"}
            """, ct);

        using var broken = device.Report($"homeiq-test/broken-{id}", """{"t":19.25}""", ct);
        using var after = device.Report($"homeiq-test/after-{id}", "1.25", ct);
        var afterId = await fixture.DeviceIdAsync($"mqtt:ha/after-{id}", ct);
        var latest = await fixture.LatestAsync(l => Task.FromResult(l.Contains((afterId, "power", 1250, "W"))), ct);
        await Task.Delay(TimeSpan.FromSeconds(2), ct); // a broken entity's device would be registered by now
        await Task.WhenAll(broken.StopAsync(), after.StopAsync());

        Assert.Contains((afterId, "power", 1250, "W"), latest); // 1.25 kW
        var registered = await fixture.DevicesByExternalIdAsync(ct);
        Assert.DoesNotContain(registered.Keys, k => k.Contains($"broken-{id}", StringComparison.Ordinal));
        await device.ClearAsync(ct);
    }

    [Fact]
    public async Task AnEmptyConfigRemovesTheEntity()
    {
        var ct = TestApps.Timeout();
        var id = Guid.NewGuid().ToString("N")[..8];
        await using var device = await DiscoveryDevice.ConnectAsync(fixture.Broker, ct);
        var config = $"homeassistant/sensor/gone-{id}/config";
        await device.PublishRetainedAsync(config, $$"""{"stat_t":"homeiq-test/gone-{{id}}","uniq_id":"gone-{{id}}","dev_cla":"humidity","unit_of_meas":"%"}""", ct);
        var reporting = device.Report($"homeiq-test/gone-{id}", "40.5", ct);
        var gone = await fixture.DeviceIdAsync($"mqtt:ha/gone-{id}", ct);
        await fixture.LatestAsync(l => Task.FromResult(l.Contains((gone, "humidity", 40.5, "%"))), ct);
        await reporting.StopAsync();
        reporting.Dispose();

        await device.PublishRetainedAsync(config, "", ct);
        await Task.Delay(TimeSpan.FromSeconds(2), ct); // both replicas have the removal (it was published before what follows)
        using var later = device.Report($"homeiq-test/gone-{id}", "60.5", ct);
        await Task.Delay(TimeSpan.FromSeconds(4), ct);
        await later.StopAsync();
        var latest = await fixture.LatestAsync(l => Task.FromResult(true), ct);

        Assert.Contains((gone, "humidity", 40.5, "%"), latest);
        Assert.DoesNotContain((gone, "humidity", 60.5, "%"), latest);
    }

    /// <summary>The device as Devices' API shows it.</summary>
    private async Task<JsonElement> DeviceAsync(Guid deviceId, CancellationToken ct)
    {
        var devices = new IdentityClient(fixture.App.CreateHttpClient("devices"));
        using var response = await devices.SendAsync(HttpMethod.Get, $"/api/v1/homes/{fixture.HomeId}/devices/{deviceId}", fixture.OwnerToken);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<JsonElement>(ct);
    }

    /// <summary>The device's <c>state</c> in Devices' state view once <paramref name="ready"/> holds (or what it is after 30 s).</summary>
    private async Task<string?> StateAsync(Guid deviceId, Func<string?, bool> ready, CancellationToken ct)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var device = await DeviceAsync(deviceId, ct);
            var state = device.TryGetProperty("state", out var view) && view.ValueKind == JsonValueKind.Object
                && view.TryGetProperty("state", out var s) && s.TryGetProperty("value", out var value) && value.ValueKind == JsonValueKind.String
                ? value.GetString()
                : null;
            if (ready(state) || DateTime.UtcNow > until)
            {
                return state;
            }
            await Task.Delay(250, ct);
        }
    }
}

/// <summary>
/// A scripted device that announces itself with retained discovery configs (cleared again by <see cref="ClearAsync"/>) and then reports
/// its state every second until stopped: like a real device, since a state published before the replicas subscribed its topic is not seen.
/// </summary>
internal sealed class DiscoveryDevice : IAsyncDisposable
{
    private readonly IMqttClient _client;
    private readonly List<string> _retained = [];

    private DiscoveryDevice(IMqttClient client) => _client = client;

    public static async Task<DiscoveryDevice> ConnectAsync(Uri broker, CancellationToken ct)
    {
        var credentials = Uri.UnescapeDataString(broker.UserInfo).Split(':', 2);
        var client = new MqttClientFactory().CreateMqttClient();
        await client.ConnectAsync(new MqttClientOptionsBuilder()
            .WithTcpServer(broker.Host, broker.Port)
            .WithCredentials(credentials[0], credentials[1])
            .WithClientId($"discovery-device-{Guid.NewGuid():N}")
            .WithCleanSession(true)
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V311)
            .Build(), ct);
        return new DiscoveryDevice(client);
    }

    public async Task PublishRetainedAsync(string topic, string payload, CancellationToken ct)
    {
        await _client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).WithRetainFlag().Build(), ct);
        _retained.Add(topic);
    }

    public Reporting Report(string topic, string payload, CancellationToken ct) => new(this, topic, payload, ct);

    private Task PublishAsync(string topic, string payload, CancellationToken ct) =>
        _client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build(), ct);

    /// <summary>Removes the retained configs (an empty retained message), so they outlive neither the test nor the broker.</summary>
    public async Task ClearAsync(CancellationToken ct)
    {
        foreach (var topic in _retained.Distinct().ToList())
        {
            await _client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload("")
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).WithRetainFlag().Build(), ct);
        }
        _retained.Clear();
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Publishes the state every second until stopped.</summary>
    internal sealed class Reporting : IDisposable
    {
        private readonly CancellationTokenSource _stop;
        private readonly Task _loop;

        public Reporting(DiscoveryDevice device, string topic, string payload, CancellationToken ct)
        {
            _stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var token = _stop.Token;
            _loop = Task.Run(async () =>
            {
                while (!token.IsCancellationRequested)
                {
                    await device.PublishAsync(topic, payload, token);
                    await Task.Delay(1000, token);
                }
            }, CancellationToken.None);
        }

        public async Task StopAsync()
        {
            await _stop.CancelAsync();
            await _loop.ContinueWith(_ => { }, TaskScheduler.Default);
        }

        public void Dispose()
        {
            _stop.Cancel();
            _stop.Dispose();
        }
    }
}
