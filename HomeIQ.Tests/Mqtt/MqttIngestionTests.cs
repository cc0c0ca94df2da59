using System.Globalization;
using System.Text;
using HomeIQ.Ingestion.Mqtt;
using StackExchange.Redis;
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
    public async Task EqualMessagesFromADeviceAreEachAReading()
    {
        var ct = TestApps.Timeout();
        var id = Guid.NewGuid().ToString("N")[..8];
        var topic = $"zigbee2mqtt/steady-{id}";
        const string Payload = """{"temperature":23.75,"humidity":51.5}""";
        await using var device = await fixture.DeviceAsync(ct);

        // A sensor whose value does not change reports the same payload each time: each report is a reading of its own.
        for (var i = 0; i < 3; i++)
        {
            await device.PublishAsync(topic, Payload, ct);
        }
        var deviceId = await fixture.DeviceIdAsync($"mqtt:{topic}", ct);
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (await fixture.StoredAsync(deviceId, "temperature", ct) < 3 && DateTime.UtcNow < until)
        {
            await Task.Delay(250, ct);
        }
        await Task.Delay(TimeSpan.FromSeconds(2), ct); // a straggler would be stored by now

        Assert.Equal(3, await fixture.StoredAsync(deviceId, "temperature", ct));
        Assert.Equal(3, await fixture.StoredAsync(deviceId, "humidity", ct));
    }

    [Fact]
    public async Task ARedeliveryGetsTheTimestampOfItsFirstDeliveryAndANewMessageItsOwn()
    {
        var ct = TestApps.Timeout();
        var redis = await ConnectionMultiplexer.ConnectAsync((await fixture.App.GetConnectionStringAsync("cache", ct))!);
        await using var _ = redis;
        var clock = new Clock(DateTimeOffset.Parse("2026-11-26T10:00:00.000001Z", CultureInfo.InvariantCulture));
        var timestamps = new MqttTimestamps(redis, clock);
        var session = $"test-{Guid.NewGuid():N}";
        var payload = Encoding.UTF8.GetBytes("""{"temperature":21.5}""");
        var fingerprint = MqttTimestamps.Fingerprint("zigbee2mqtt/a", payload);
        var topic = $"zigbee2mqtt/a-{session}";

        var first = new Timed(7, false, fingerprint, timestamps.Arrival(), topic);
        var sameTime = new Timed(8, false, fingerprint, timestamps.Arrival(), topic); // same clock reading: still a later time
        await timestamps.SettleAsync(session, [first, sameTime], ct);
        clock.Advance(TimeSpan.FromSeconds(5));
        var redelivery = new Timed(7, true, fingerprint, timestamps.Arrival(), topic);
        var otherContent = new Timed(8, true, MqttTimestamps.Fingerprint("zigbee2mqtt/b", payload), timestamps.Arrival(), topic);
        var unknown = new Timed(9, true, fingerprint, timestamps.Arrival(), topic); // its first delivery never got as far as recording it
        var arrivals = (otherContent.Timestamp, unknown.Timestamp);
        await timestamps.SettleAsync(session, [redelivery, otherContent, unknown], ct);
        var reused = new Timed(7, false, fingerprint, timestamps.Arrival(), topic); // identifier 7 acknowledged, then reused: a new message
        var reusedArrival = reused.Timestamp;
        await timestamps.SettleAsync(session, [reused], ct);

        Assert.True(sameTime.Timestamp > first.Timestamp);
        Assert.Equal(first.Timestamp, redelivery.Timestamp);
        Assert.Equal(arrivals, (otherContent.Timestamp, unknown.Timestamp));
        Assert.Equal(reusedArrival, reused.Timestamp);
        Assert.NotEqual(first.Timestamp, reused.Timestamp);
    }

    [Fact]
    public async Task TwoReplicasTakingMessagesOfATopicInTheSameMicrosecondGiveThemDifferentTimes()
    {
        var ct = TestApps.Timeout();
        var redis = await ConnectionMultiplexer.ConnectAsync((await fixture.App.GetConnectionStringAsync("cache", ct))!);
        await using var _ = redis;
        var clock = new Clock(DateTimeOffset.UtcNow);
        var (one, other) = (new MqttTimestamps(redis, clock), new MqttTimestamps(redis, clock));
        var topic = $"zigbee2mqtt/same-{Guid.NewGuid():N}";
        var fingerprint = MqttTimestamps.Fingerprint(topic, "{}"u8);

        var first = new Timed(1, false, fingerprint, one.Arrival(), topic);
        var second = new Timed(1, false, fingerprint, other.Arrival(), topic);
        var elsewhere = new Timed(2, false, fingerprint, other.Arrival(), $"{topic}-other");
        Assert.Equal(first.Timestamp, second.Timestamp); // the clock alone would collide
        var arrivalElsewhere = elsewhere.Timestamp;
        await Task.WhenAll(one.SettleAsync($"one-{topic}", [first], ct), other.SettleAsync($"other-{topic}", [second, elsewhere], ct));

        Assert.NotEqual(first.Timestamp, second.Timestamp);
        Assert.Equal(TimeSpan.FromTicks(10), (first.Timestamp - second.Timestamp).Duration()); // one microsecond apart
        Assert.Equal(arrivalElsewhere, elsewhere.Timestamp); // another topic keeps its arrival time
    }

    private sealed class Timed(ushort packetId, bool redelivered, ulong fingerprint, DateTimeOffset arrival, string topic = "zigbee2mqtt/a") : IMqttTimed
    {
        public ushort PacketId => packetId;

        public string Topic => topic;

        public bool Redelivered => redelivered;

        public ulong Fingerprint => fingerprint;

        public DateTimeOffset Timestamp { get; set; } = arrival;
    }

    private sealed class Clock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;

        public void Advance(TimeSpan by) => now += by;
    }

    [Fact]
    public async Task TheSubscriptionComesBackAfterTheBrokerRestarts()
    {
        var ct = TestApps.Timeout();
        var id = Guid.NewGuid().ToString("N")[..8];

        // Waited for by the health reports of the new run: a plain wait may still see the stopped run's state and give up.
        var since = DateTime.UtcNow;
        await fixture.App.CommandAsync("mqtt", KnownResourceCommands.RestartCommand, ct);
        await fixture.App.WaitForHealthySinceAsync("mqtt", since, ct);
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
