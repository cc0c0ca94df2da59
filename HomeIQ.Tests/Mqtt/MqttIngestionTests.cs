using HomeIQ.Tests.Integration;

namespace HomeIQ.Tests.Mqtt;

/// <summary>Scripted Zigbee2MQTT, Tasmota and Shelly devices publish to the real Mosquitto; Ingestion's two replicas share the subscription.</summary>
[Collection(MqttCollection.Name)]
public sealed class MqttIngestionTests(MqttFixture fixture)
{
    [Fact]
    public async Task Zigbee2MqttTasmotaAndShellyMessagesBecomeStoredReadingsOfRegisteredDevices()
    {
        var ct = TestApps.Timeout();
        var id = Guid.NewGuid().ToString("N")[..8];
        await using var device = await fixture.DeviceAsync(ct);

        await device.PublishAsync($"zigbee2mqtt/climate-{id}", """{"temperature":21.5,"humidity":40.25,"linkquality":97}""", ct);
        await device.PublishAsync($"tele/plug-{id}/SENSOR", """{"Time":"2026-11-26T09:00:00","ENERGY":{"Total":0.52,"Yesterday":0.1,"Today":0.32,"Power":27,"Voltage":234,"Current":0.122}}""", ct);
        await device.PublishAsync($"shellyplus1pm-{id}/status/switch:0", """{"id":0,"source":"init","output":true,"apower":8.9,"voltage":237.5,"current":0.04,"aenergy":{"total":6532.0,"by_minute":[0,0,0],"minute_ts":1654511972},"temperature":{"tC":23.5,"tF":74.4}}""", ct);
        var expected = new Dictionary<string, (string Metric, double Value, string Unit)[]>
        {
            [$"mqtt:zigbee2mqtt/climate-{id}"] = [("temperature", 21.5, "°C"), ("humidity", 40.25, "%")],
            [$"mqtt:tasmota/plug-{id}"] = [("power", 27, "W"), ("energy", 0.52, "kWh"), ("voltage", 234, "V"), ("current", 0.122, "A")],
            [$"mqtt:shelly/shellyplus1pm-{id}/switch:0"] = [("power", 8.9, "W"), ("voltage", 237.5, "V"), ("current", 0.04, "A"), ("energy", 6.532, "kWh")],
        };
        Dictionary<string, Guid> devices = [];
        var latest = await fixture.LatestAsync(async l =>
        {
            devices = await fixture.DevicesByExternalIdAsync(ct);
            return expected.All(e => devices.TryGetValue(e.Key, out var d) && e.Value.All(v => l.Contains((d, v.Metric, v.Value, v.Unit))));
        }, ct);

        foreach (var (externalId, values) in expected)
        {
            Assert.True(devices.TryGetValue(externalId, out var deviceId), $"{externalId} was not registered");
            Assert.All(values, v => Assert.Contains((deviceId, v.Metric, v.Value, v.Unit), latest));
        }
    }

    [Fact]
    public async Task BadPayloadsAndUnknownTopicsDoNotStopTheSubscription()
    {
        var ct = TestApps.Timeout();
        var id = Guid.NewGuid().ToString("N")[..8];
        await using var device = await fixture.DeviceAsync(ct);

        await device.PublishAsync($"zigbee2mqtt/broken-{id}", "{not json", ct);
        await device.PublishAsync($"tele/broken-{id}/SENSOR", "[]", ct);
        await device.PublishAsync($"stat/broken-{id}/POWER", "MAYBE", ct);
        await device.PublishAsync($"broken-{id}/status/sys", "{}", ct);
        await device.PublishAsync($"zigbee2mqtt/after-{id}", """{"temperature":19.25}""", ct);
        var after = await fixture.DeviceIdAsync($"mqtt:zigbee2mqtt/after-{id}", ct);
        var latest = await fixture.LatestAsync(l => Task.FromResult(l.Contains((after, "temperature", 19.25, "°C"))), ct);

        Assert.Contains((after, "temperature", 19.25, "°C"), latest);
        var registered = await fixture.DevicesByExternalIdAsync(ct);
        Assert.DoesNotContain(registered.Keys, k => k.Contains($"broken-{id}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AResentMessageIsStoredOnce()
    {
        var ct = TestApps.Timeout();
        var id = Guid.NewGuid().ToString("N")[..8];
        var topic = $"zigbee2mqtt/resent-{id}";
        const string Payload = """{"temperature":23.75,"humidity":51.5}""";
        await using var device = await fixture.DeviceAsync(ct);

        // The device did not get its PUBACK and sends the message again: the broker delivers both, possibly one to each replica.
        await device.PublishAsync(topic, Payload, ct);
        await device.PublishAsync(topic, Payload, ct);
        await Task.Delay(50, ct); // a new message: another millisecond
        await device.PublishAsync(topic, """{"temperature":24.0,"humidity":51.5}""", ct);
        var deviceId = await fixture.DeviceIdAsync($"mqtt:{topic}", ct);
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (await fixture.StoredAsync(deviceId, "temperature", ct) < 2 && DateTime.UtcNow < until)
        {
            await Task.Delay(250, ct);
        }
        await Task.Delay(TimeSpan.FromSeconds(2), ct); // a straggling duplicate would be stored by now

        Assert.Equal(2, await fixture.StoredAsync(deviceId, "temperature", ct));
        Assert.Equal(2, await fixture.StoredAsync(deviceId, "humidity", ct));
    }

    [Fact]
    public async Task TheSubscriptionComesBackAfterTheBrokerRestarts()
    {
        var ct = TestApps.Timeout();
        var id = Guid.NewGuid().ToString("N")[..8];

        await fixture.App.CommandAsync("mqtt", KnownResourceCommands.RestartCommand, ct);
        await fixture.App.ResourceNotifications.WaitForResourceHealthyAsync("mqtt", ct);
        await using var device = await fixture.DeviceAsync(ct);
        // The broker here keeps no sessions across a restart: like a real sensor, the device reports every second until it is heard.
        using var reporting = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var reports = Task.Run(async () =>
        {
            while (!reporting.IsCancellationRequested)
            {
                await device.PublishAsync($"zigbee2mqtt/restart-{id}", """{"temperature":18.5}""", reporting.Token);
                await Task.Delay(1000, reporting.Token);
            }
        }, CancellationToken.None);
        var deviceId = await fixture.DeviceIdAsync($"mqtt:zigbee2mqtt/restart-{id}", ct);
        var latest = await fixture.LatestAsync(l => Task.FromResult(l.Contains((deviceId, "temperature", 18.5, "°C"))), ct);
        await reporting.CancelAsync();
        await reports.ContinueWith(_ => { }, TaskScheduler.Default);

        Assert.Contains((deviceId, "temperature", 18.5, "°C"), latest);
    }
}
