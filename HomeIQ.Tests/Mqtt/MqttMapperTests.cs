using System.Text;
using HomeIQ.Ingestion.Mqtt;

namespace HomeIQ.Tests.Mqtt;

/// <summary>Payloads as the projects document them: Zigbee2MQTT's MQTT topics page, Tasmota's telemetry, Shelly Gen2's Switch status.</summary>
public sealed class MqttMapperTests
{
    private static MqttMapping Map(string topic, string payload) => MqttMapper.Map(topic, Encoding.UTF8.GetBytes(payload));

    [Fact]
    public void AZigbee2MqttClimateSensorGivesTemperatureHumidityPressureAndBattery()
    {
        var mapping = Map("zigbee2mqtt/0x00158d00036c1821", """{"temperature":22.75,"linkquality":97,"humidity":55.43,"pressure":1000.6,"battery":86,"voltage":2995}""");

        Assert.Equal(MqttMessageKind.Device, mapping.Kind);
        Assert.Equal("mqtt:zigbee2mqtt/0x00158d00036c1821", mapping.Message!.ExternalId);
        Assert.Equal(
            [new("temperature", 22.75, "°C"), new("humidity", 55.43, "%"), new("pressure", 1000.6, "hPa"), new MqttValue("battery", 86, "%")],
            mapping.Message.Values);
        Assert.Null(mapping.Message.State);
    }

    [Fact]
    public void AZigbee2MqttPlugWithASlashInItsNameGivesPowerEnergyAndState()
    {
        var mapping = Map("zigbee2mqtt/kitchen/kettle", """{"state":"ON","power":1850.5,"energy":12.34,"linkquality":120}""");

        Assert.Equal("mqtt:zigbee2mqtt/kitchen/kettle", mapping.Message!.ExternalId);
        Assert.Equal("kitchen/kettle", mapping.Message.Name);
        Assert.Equal([new("power", 1850.5, "W"), new MqttValue("energy", 12.34, "kWh")], mapping.Message.Values);
        Assert.Equal("on", mapping.Message.State);
    }

    [Theory]
    [InlineData("zigbee2mqtt/bridge/state", "online")]
    [InlineData("zigbee2mqtt/lamp/availability", """{"state":"online"}""")]
    [InlineData("zigbee2mqtt/lamp/set", """{"state":"ON"}""")]
    [InlineData("zigbee2mqtt/switch", """{"action":"single"}""")]
    public void Zigbee2MqttTopicsWithoutReadingsAreIgnored(string topic, string payload) =>
        Assert.Equal(MqttMessageKind.Ignored, Map(topic, payload).Kind);

    [Fact]
    public void ATasmotaEnergySensorGivesPowerTotalEnergyVoltageAndCurrent()
    {
        var mapping = Map("tele/plug001/SENSOR",
            """{"Time":"2022-03-28T19:15:01","ENERGY":{"TotalStartTime":"2022-01-01T12:00:00","Total":0.520,"Yesterday":0.100,"Today":0.320,"Period":0,"Power":27,"ApparentPower":29,"ReactivePower":9,"Factor":0.94,"Voltage":234,"Current":0.122}}""");

        Assert.Equal("mqtt:tasmota/plug001", mapping.Message!.ExternalId);
        Assert.Equal(
            [new("power", 27, "W"), new("energy", 0.52, "kWh"), new("voltage", 234, "V"), new MqttValue("current", 0.122, "A")],
            mapping.Message.Values);
    }

    [Fact]
    public void ATasmotaClimateSensorTakesItsTemperatureUnit()
    {
        var mapping = Map("tele/bath/SENSOR", """{"Time":"2019-11-03T19:34:28","AM2301":{"Temperature":71.6,"Humidity":45.3,"DewPoint":49.1},"TempUnit":"F"}""");

        Assert.Equal([new("temperature", 71.6, "°F"), new MqttValue("humidity", 45.3, "%")], mapping.Message!.Values);
    }

    [Fact]
    public void TasmotaStateAndPowerMessagesGiveTheRelayState()
    {
        var state = Map("tele/plug001/STATE", """{"Time":"2022-03-28T19:15:01","Uptime":"0T00:05:12","UptimeSec":312,"Heap":26,"SleepMode":"Dynamic","Sleep":50,"LoadAvg":19,"MqttCount":1,"POWER":"OFF","Wifi":{"AP":1,"SSId":"home","RSSI":74}}""");
        var power = Map("stat/plug001/POWER", "ON");

        Assert.Equal(("mqtt:tasmota/plug001", "off"), (state.Message!.ExternalId, state.Message.State));
        Assert.Equal(("mqtt:tasmota/plug001", "on"), (power.Message!.ExternalId, power.Message.State));
    }

    [Fact]
    public void AShellyGen2SwitchStatusGivesPowerEnergyInKilowattHoursAndState()
    {
        var mapping = Map("shellyplus1pm-a8032ab12345/status/switch:0",
            """{"id":0,"source":"timer","output":true,"apower":8.9,"voltage":237.5,"current":0.04,"aenergy":{"total":6532.0,"by_minute":[45.199,47.141,88.397],"minute_ts":1654511972},"temperature":{"tC":23.5,"tF":74.4}}""");

        Assert.Equal("mqtt:shelly/shellyplus1pm-a8032ab12345/switch:0", mapping.Message!.ExternalId);
        Assert.Equal(
            [new("power", 8.9, "W"), new("voltage", 237.5, "V"), new("current", 0.04, "A"), new MqttValue("energy", 6.532, "kWh")],
            mapping.Message.Values);
        Assert.Equal("on", mapping.Message.State);
    }

    [Theory]
    [InlineData("zigbee2mqtt/sensor", "not json")]
    [InlineData("zigbee2mqtt/sensor", "[1,2]")]
    [InlineData("zigbee2mqtt/sensor", "")]
    [InlineData("tele/plug/SENSOR", "{\"ENERGY\":")]
    [InlineData("stat/plug/POWER", "MAYBE")]
    [InlineData("shelly1/status/switch:0", "{\"output\":true}")]
    public void APayloadThatIsNotWhatTheProjectSendsIsMalformed(string topic, string payload) =>
        Assert.Equal(MqttMessageKind.Malformed, Map(topic, payload).Kind);

    [Theory]
    [InlineData("shelly1/status/sys")]
    [InlineData("zigbee2mqtt/")]
    [InlineData("home/kitchen/temperature")]
    public void ATopicNoMappingKnowsIsUnknown(string topic) =>
        Assert.Equal(MqttMessageKind.UnknownTopic, Map(topic, "{}").Kind);

    [Fact]
    public void NumbersAsStringsAndNonFiniteValuesAreLeftOut()
    {
        var mapping = Map("zigbee2mqtt/old", """{"battery":"100.00","temperature":21.5}""");

        Assert.Equal([new MqttValue("temperature", 21.5, "°C")], mapping.Message!.Values);
    }
}
