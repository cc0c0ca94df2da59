using System.Globalization;
using HomeIQ.Ingestion.HomeAssistant;
using HomeIQ.Tests.Integration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using HomeIQ.Ingestion.Infrastructure;

namespace HomeIQ.Tests.HomeAssistant;

/// <summary>The bridge in a test host against the scripted Home Assistant, with a recording pipeline and an in-memory Devices map.</summary>
public sealed class HomeAssistantBridgeTests
{
    private static readonly DeviceCapability Power = new("power", "W", null, null, false);

    private static CancellationToken Timeout() => TestApps.Timeout(TimeSpan.FromSeconds(60));

    private static async Task<ScriptedHomeAssistant> ServerAsync()
    {
        var server = new ScriptedHomeAssistant();
        await server.StartAsync(TestContext.Current.CancellationToken);
        return server;
    }

    [Fact]
    public async Task TheBridgeAuthenticatesThenSubscribesToStateChangesAndBothRegistriesWithIncreasingIds()
    {
        var ct = Timeout();
        await using var server = await ServerAsync();
        await using var bridge = await BridgeHost.StartAsync(BridgeHost.Settings(server));
        await server.WaitForSubscribedAsync(ct);
        await BridgeHost.WaitUntilAsync(() => server.Received.Count >= 5, ct);

        var sent = server.Received;
        Assert.Equal("auth", sent[0]["type"]!.GetValue<string>());
        Assert.Equal(ScriptedHomeAssistant.ValidToken, sent[0]["access_token"]!.GetValue<string>());
        var commands = sent.Skip(1).ToList();
        Assert.Equal(["state_changed", "entity_registry_updated", "device_registry_updated"],
            commands.Where(c => c["type"]!.GetValue<string>() == "subscribe_events").Select(c => c["event_type"]!.GetValue<string>()));
        Assert.Contains(commands, c => c["type"]!.GetValue<string>() == "get_states");
        var ids = commands.Select(c => c["id"]!.GetValue<int>()).ToList();
        Assert.Equal(ids.Order().Distinct(), ids);
        Assert.True(ids[0] >= 1);
        Assert.True(bridge.Status.Connected);
        Assert.True(bridge.Status.HoldsLease);
    }

    [Fact]
    public async Task AnInvalidTokenIsLoggedClearlyAndRetriedOnlyAfterTheAuthRetryDelay()
    {
        var ct = Timeout();
        await using var server = await ServerAsync();
        server.AccessToken = "another-token";
        var settings = BridgeHost.Settings(server);
        settings["HomeAssistant:AuthRetryDelay"] = "00:00:03";
        await using var bridge = await BridgeHost.StartAsync(settings);

        await BridgeHost.WaitUntilAsync(() => server.AuthFailures == 1, ct);
        await Task.Delay(TimeSpan.FromSeconds(1), ct);
        var failuresWhileWaiting = server.AuthFailures;
        var error = Assert.Single(bridge.Logs.At(LogLevel.Error));
        server.AccessToken = ScriptedHomeAssistant.ValidToken;
        await server.WaitForSubscribedAsync(ct);

        Assert.Equal(1, failuresWhileWaiting);
        Assert.Contains("auth_invalid", error);
        Assert.Contains("HomeAssistant:AccessToken", error);
        Assert.Equal(2, server.Connections);
        Assert.True(bridge.Status.Connected);
    }

    [Fact]
    public async Task NumericStatesAndMappedAttributesBecomeReadingsWithTheirMetricUnitAndTimestamp()
    {
        var ct = Timeout();
        await using var server = await ServerAsync();
        ExternalDevice climate = null!, plug = null!, gauge = null!;
        await using var bridge = await BridgeHost.StartAsync(BridgeHost.Settings(server), d =>
        {
            climate = d.Add("sensor.kitchen_temperature", "sensor", new DeviceCapability("temperature", "°C", -40, 80, false));
            gauge = d.Add("sensor.rain_gauge", "sensor", new DeviceCapability("rain", "mm", null, null, false), new DeviceCapability("battery", "%", 0, 100, false));
            plug = d.Add("switch.fridge_plug", "switch", new DeviceCapability("state", null, null, null, true), Power);
        });
        await server.WaitForSubscribedAsync(ct);
        var at = new DateTimeOffset(2026, 11, 21, 9, 30, 15, 250, TimeSpan.Zero);

        await server.EmitStateAsync("sensor.kitchen_temperature", "21.5", new { unit_of_measurement = "°C", device_class = "temperature", friendly_name = "Kitchen" }, at);
        await server.EmitStateAsync("sensor.rain_gauge", "3.25", new { unit_of_measurement = "mm", battery_level = 87 }, at.AddSeconds(1));
        await server.EmitStateAsync("switch.fridge_plug", "on", new { current_power_w = 112.5, friendly_name = "Fridge" }, at.AddSeconds(2));
        await BridgeHost.WaitUntilAsync(() => bridge.Pipeline.Readings.Count() == 4, ct);

        var readings = bridge.Pipeline.Readings.ToList();
        var temperature = Assert.Single(readings, r => r.DeviceId == climate.DeviceId);
        Assert.Equal(("temperature", 21.5, "°C", at), (temperature.Metric, temperature.Value, temperature.Unit, temperature.Timestamp));
        Assert.Equal(("rain", 3.25, "mm"), readings.Where(r => r.DeviceId == gauge.DeviceId && r.Metric == "rain").Select(r => (r.Metric, r.Value, r.Unit)).Single());
        Assert.Equal(87, readings.Single(r => r.DeviceId == gauge.DeviceId && r.Metric == "battery").Value);
        var power = Assert.Single(readings, r => r.DeviceId == plug.DeviceId);
        Assert.Equal(("power", 112.5, "W", at.AddSeconds(2)), (power.Metric, power.Value, power.Unit, power.Timestamp));
        Assert.All(bridge.Pipeline.Batches, b => Assert.Equal((BridgeHost.HomeId, "homeassistant"), (b.HomeId, b.Source)));
    }

    [Fact]
    public async Task OnOffStatesBecomeStateChangesAndUnavailableStatesAreSkippedAndCounted()
    {
        var ct = Timeout();
        await using var server = await ServerAsync();
        ExternalDevice light = null!;
        await using var bridge = await BridgeHost.StartAsync(BridgeHost.Settings(server), d =>
            light = d.Add("light.hall", "dimmer", new DeviceCapability("state", null, null, null, true)));
        await server.WaitForSubscribedAsync(ct);

        await server.EmitStateAsync("light.hall", "on", new { brightness = 128 });
        await server.EmitStateAsync("light.hall", "unavailable");
        await server.EmitStateAsync("light.hall", "off");
        await server.EmitStateAsync("light.hall", "unknown");
        await BridgeHost.WaitUntilAsync(() => bridge.Pipeline.States.Count == 2 && bridge.Metrics.Skipped == 2, ct);

        var states = bridge.Pipeline.States.ToList();
        Assert.Equal(["on", "off"], states.Select(s => s.State));
        Assert.All(states, s => Assert.Equal((BridgeHost.HomeId, light.DeviceId), (s.HomeId, s.DeviceId)));
        Assert.Equal("128", states[0].Attributes!["brightness"]);
        Assert.Empty(bridge.Pipeline.Readings);
        Assert.Equal(4, bridge.Metrics.EventsReceived);
    }

    [Fact]
    public async Task UnknownEntitiesAreSkippedWhenRegistrationIsOff()
    {
        var ct = Timeout();
        await using var server = await ServerAsync();
        await using var bridge = await BridgeHost.StartAsync(BridgeHost.Settings(server));
        await server.WaitForSubscribedAsync(ct);

        await server.EmitStateAsync("sensor.garage_humidity", "55", new { unit_of_measurement = "%", device_class = "humidity" });
        await server.EmitStateAsync("switch.garage_door", "off");
        await BridgeHost.WaitUntilAsync(() => bridge.Metrics.Skipped == 2, ct);

        Assert.Empty(bridge.Devices.Registrations);
        Assert.Empty(bridge.Pipeline.Readings);
        Assert.Empty(bridge.Pipeline.States);
        Assert.Contains(bridge.Logs.Records, r => r.Level == LogLevel.Debug && r.Message.Contains("sensor.garage_humidity") && r.Message.Contains("RegisterUnknownEntities"));
    }

    [Fact]
    public async Task UnknownEntitiesAreRegisteredWhenConfiguredAndTheirEventsArriveUnderTheNewDevice()
    {
        var ct = Timeout();
        await using var server = await ServerAsync();
        var settings = BridgeHost.Settings(server);
        settings["HomeAssistant:RegisterUnknownEntities"] = "true";
        await using var bridge = await BridgeHost.StartAsync(settings);
        await server.WaitForSubscribedAsync(ct);

        await server.EmitStateAsync("sensor.garage_humidity", "55", new { unit_of_measurement = "%", device_class = "humidity", friendly_name = "Garage humidity" });
        await server.EmitStateAsync("sensor.garage_humidity", "56", new { unit_of_measurement = "%", device_class = "humidity", friendly_name = "Garage humidity" });
        await server.EmitStateAsync("light.porch", "on");
        await server.EmitStateAsync("sun.sun", "above_horizon");
        await BridgeHost.WaitUntilAsync(() => bridge.Pipeline.Readings.Count() == 2 && bridge.Pipeline.States.Count == 1 && bridge.Metrics.Skipped == 1, ct);

        var registrations = bridge.Devices.Registrations.ToList();
        Assert.Equal(2, registrations.Count);
        var humidity = registrations.Single(r => r.ExternalId == "sensor.garage_humidity");
        Assert.Equal(("Garage humidity", "sensor"), (humidity.Name, humidity.Kind));
        Assert.Equal(("humidity", "%"), (Assert.Single(humidity.Capabilities).Metric, humidity.Capabilities[0].Unit));
        Assert.Equal("dimmer", registrations.Single(r => r.ExternalId == "light.porch").Kind);
        var device = (await bridge.Devices.ListAsync(BridgeHost.HomeId, ct)).Single(d => d.ExternalId == "sensor.garage_humidity");
        Assert.Equal([55.0, 56.0], bridge.Pipeline.Readings.Where(r => r.DeviceId == device.DeviceId).Select(r => r.Value));
    }

    [Fact]
    public async Task AServerRestartMidStreamReconnectsResubscribesAndLosesNothingEmittedAfterIt()
    {
        var ct = Timeout();
        await using var server = await ServerAsync();
        ExternalDevice meter = null!;
        await using var bridge = await BridgeHost.StartAsync(BridgeHost.Settings(server), d => meter = d.Add("sensor.heat_pump_power", "meter", Power));
        await server.WaitForSubscribedAsync(ct);
        var at = DateTimeOffset.UtcNow;

        for (var i = 0; i < 200; i++)
        {
            await server.EmitStateAsync("sensor.heat_pump_power", i.ToString(CultureInfo.InvariantCulture), new { unit_of_measurement = "W", device_class = "power" }, at.AddMilliseconds(i));
        }
        await BridgeHost.WaitUntilAsync(() => bridge.Pipeline.Readings.Count() >= 200, ct);
        await server.RestartAsync(TimeSpan.FromMilliseconds(300));
        await server.WaitForSubscribedAsync(ct);
        var afterRestart = 0;
        for (var i = 200; i < 400; i++)
        {
            afterRestart += await server.EmitStateAsync("sensor.heat_pump_power", i.ToString(CultureInfo.InvariantCulture), new { unit_of_measurement = "W", device_class = "power" }, at.AddMilliseconds(i));
        }
        await BridgeHost.WaitUntilAsync(() => bridge.Pipeline.Readings.Count(r => r.Value >= 200) >= 200, ct);

        var values = bridge.Pipeline.Readings.Where(r => r.DeviceId == meter.DeviceId).Select(r => r.Value).ToHashSet();
        Assert.Equal(200, afterRestart);
        Assert.All(Enumerable.Range(0, 400), i => Assert.Contains((double)i, values));
        // One reconnect, or a few more on a loaded machine (a handshake that times out): each counted, and each connection subscribed.
        Assert.InRange(bridge.Metrics.Reconnects, 1, 3);
        Assert.Equal(bridge.Metrics.Reconnects + 1, server.Connections);
        Assert.Equal(server.Connections, server.Received.Count(m => m["type"]!.GetValue<string>() == "subscribe_events" && m["event_type"]!.GetValue<string>() == "state_changed"));
    }

    [Fact]
    public async Task WhileThePipelineIsUnavailableTheBufferStaysBoundedAndEverythingArrivesOnceItRecovers()
    {
        var ct = Timeout();
        await using var server = await ServerAsync();
        var settings = BridgeHost.Settings(server);
        settings["HomeAssistant:BufferCapacity"] = "100";
        settings["HomeAssistant:MaxBatchSize"] = "20";
        ExternalDevice meter = null!;
        await using var bridge = await BridgeHost.StartAsync(settings, d => meter = d.Add("sensor.mains_power", "meter", Power));
        await server.WaitForSubscribedAsync(ct);
        bridge.Pipeline.Down = true;

        var emitting = Task.Run(async () =>
        {
            for (var i = 0; i < 1000; i++)
            {
                await server.EmitStateAsync("sensor.mains_power", i.ToString(CultureInfo.InvariantCulture), new { unit_of_measurement = "W" });
            }
        }, ct);
        await BridgeHost.WaitUntilAsync(() => bridge.Pipeline.Failures >= 5 && bridge.Metrics.EventsReceived >= 100, ct);
        await Task.Delay(500, ct);
        var receivedWhileDown = bridge.Metrics.EventsReceived;
        var bufferedWhileDown = bridge.Host.Services.GetRequiredService<ReadingForwarder>().Buffered;
        bridge.Pipeline.Down = false;
        await emitting;
        await BridgeHost.WaitUntilAsync(() => bridge.Pipeline.Readings.Count() >= 1000, ct);

        Assert.InRange(bufferedWhileDown, 1, 100);
        Assert.True(receivedWhileDown <= 100 + 20 + 1, $"the socket was read on while the buffer was full: {receivedWhileDown} events");
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => (double)i), bridge.Pipeline.Readings.Where(r => r.DeviceId == meter.DeviceId).Select(r => r.Value));
        Assert.True(bridge.Metrics.PublishRetries >= 5);
    }

    [Fact]
    public async Task ADeviceAddedInHomeIQIsMappedByThePeriodicRefreshWithoutAReconnect()
    {
        var ct = Timeout();
        await using var server = await ServerAsync();
        var settings = BridgeHost.Settings(server);
        settings["HomeAssistant:DeviceMapRefresh"] = "00:00:00.300";
        await using var bridge = await BridgeHost.StartAsync(settings);
        await server.WaitForSubscribedAsync(ct);
        await server.EmitStateAsync("sensor.cellar_temperature", "11", new { unit_of_measurement = "°C", device_class = "temperature" });
        await BridgeHost.WaitUntilAsync(() => bridge.Metrics.Skipped == 1, ct);

        var cellar = bridge.Devices.Add("sensor.cellar_temperature", "sensor", new DeviceCapability("temperature", "°C", null, null, false));
        while (!bridge.Pipeline.Readings.Any(r => r.DeviceId == cellar.DeviceId))
        {
            await server.EmitStateAsync("sensor.cellar_temperature", "12", new { unit_of_measurement = "°C", device_class = "temperature" });
            await Task.Delay(50, ct);
        }

        Assert.Equal(12, bridge.Pipeline.Readings.First(r => r.DeviceId == cellar.DeviceId).Value);
        Assert.Equal(1, server.Connections);
        Assert.Empty(bridge.Devices.Registrations);
    }

    [Fact]
    public async Task AnEntityRegistryUpdateReloadsTheMap()
    {
        var ct = Timeout();
        await using var server = await ServerAsync();
        await using var bridge = await BridgeHost.StartAsync(BridgeHost.Settings(server)); // the periodic refresh is minutes away
        await server.WaitForSubscribedAsync(ct);
        await server.EmitStateAsync("sensor.attic_temperature", "24", new { unit_of_measurement = "°C", device_class = "temperature" });
        await BridgeHost.WaitUntilAsync(() => bridge.Metrics.Skipped == 1, ct);

        var attic = bridge.Devices.Add("sensor.attic_temperature", "sensor", new DeviceCapability("temperature", "°C", null, null, false));
        Assert.Equal(1, await server.EmitEntityRegistryUpdatedAsync("sensor.attic_temperature"));
        while (!bridge.Pipeline.Readings.Any(r => r.DeviceId == attic.DeviceId))
        {
            await server.EmitStateAsync("sensor.attic_temperature", "25", new { unit_of_measurement = "°C", device_class = "temperature" });
            await Task.Delay(20, ct);
        }

        Assert.Equal(25, bridge.Pipeline.Readings.First(r => r.DeviceId == attic.DeviceId).Value);
        Assert.Equal(1, server.Connections);
    }
}
