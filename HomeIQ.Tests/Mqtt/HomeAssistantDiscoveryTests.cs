using System.Text;
using HomeIQ.Ingestion.Mqtt;

namespace HomeIQ.Tests.Mqtt;

/// <summary>Home Assistant discovery configs as the MQTT integration's documentation and common firmwares (ESPHome, Tasmota, Shelly) write them.</summary>
public sealed class HomeAssistantDiscoveryTests
{
    private const string Prefix = HomeAssistantDiscovery.DefaultPrefix;

    private static DiscoveryConfig Parse(string topic, string payload) => HomeAssistantDiscovery.Parse(Prefix, topic, Encoding.UTF8.GetBytes(payload));

    private static DiscoveredEntity Entity(string topic, string payload)
    {
        var config = Parse(topic, payload);
        Assert.True(config.Kind == DiscoveryConfigKind.Entity, $"{config.Kind}: {config.Problem}");
        return config.Entity!;
    }

    private static MqttMapping State(DiscoveredEntity entity, string payload) => HomeAssistantDiscovery.MapState(entity, Encoding.UTF8.GetBytes(payload));

    [Fact]
    public void ATemperatureSensorConfigGivesItsStateTopicTemplateMetricAndName()
    {
        var entity = Entity("homeassistant/sensor/sensorBedroomT/config", """
            {"device_class":"temperature","state_topic":"homeassistant/sensor/sensorBedroom/state","unit_of_measurement":"°C",
             "value_template":"{{ value_json.temperature}}","unique_id":"temp01ae","name":"Temperature",
             "device":{"identifiers":["bedroom01ae"],"name":"Bedroom","manufacturer":"Example sensors Ltd."}}
            """);

        Assert.Equal(("sensor", "temp01ae", "mqtt:ha/temp01ae", "Bedroom Temperature"), (entity.Component, entity.UniqueId, entity.ExternalId, entity.Name));
        Assert.Equal("homeassistant/sensor/sensorBedroom/state", entity.StateTopic);
        Assert.Equal(DiscoveryValuePath.JsonPath("temperature"), entity.Value);
        Assert.Equal(("temperature", "°C"), (entity.Metric, entity.Unit));
        var state = State(entity, """{"temperature":23.20,"humidity":43.70}""");
        Assert.Equal(MqttMessageKind.Device, state.Kind);
        Assert.Equal(("mqtt:ha/temp01ae", "Bedroom Temperature", null), (state.Message!.ExternalId, state.Message.Name, state.Message.State));
        Assert.Equal([new MqttValue("temperature", 23.2, "°C")], state.Message.Values);
    }

    [Fact]
    public void TheReadmesExampleGivesASensorAndASwitchOfOneDevice()
    {
        var sensor = Entity("homeassistant/sensor/study/temperature/config",
            """{"name":"Temperature","stat_t":"study/climate","uniq_id":"study-t","dev_cla":"temperature","unit_of_meas":"°C","val_tpl":"{{ value_json.temperature }}","dev":{"ids":["study"],"name":"Study"}}""");
        var fan = Entity("homeassistant/switch/study/fan/config",
            """{"name":"Fan","stat_t":"study/fan/state","cmd_t":"study/fan/set","uniq_id":"study-fan","dev":{"ids":["study"],"name":"Study"}}""");

        var reading = State(sensor, """{"temperature":21.5}""").Message!;
        Assert.Equal(("mqtt:ha/study-t", "Study Temperature"), (reading.ExternalId, reading.Name));
        Assert.Equal([new MqttValue("temperature", 21.5, "°C")], reading.Values);
        Assert.Equal(("mqtt:ha/study-fan", "Study Fan", "on"), (fan.ExternalId, fan.Name, State(fan, "ON").Message!.State));
        Assert.Equal("study/fan/set", fan.CommandTopic);
    }

    [Fact]
    public void AbbreviationsAndTheBaseTopicAreExpanded()
    {
        var entity = Entity("homeassistant/sensor/plug/power/config", """
            {"~":"tasmota/plug","stat_t":"~/SENSOR","cmd_t":"~/cmnd","uniq_id":"plug_power","dev_cla":"power","unit_of_meas":"W",
             "val_tpl":"{{value_json['ENERGY'].Power}}","dev":{"ids":["plug"],"name":"Kitchen plug","mf":"Tasmota"}}
            """);

        Assert.Equal("tasmota/plug/SENSOR", entity.StateTopic);
        Assert.Equal(DiscoveryValuePath.JsonPath("ENERGY", "Power"), entity.Value);
        Assert.Equal("Kitchen plug", entity.Name); // no entity name: the device's
        Assert.Null(entity.CommandTopic); // a sensor takes no commands
        Assert.Equal([new MqttValue("power", 27, "W")], State(entity, """{"ENERGY":{"Power":27,"Total":0.52}}""").Message!.Values);
    }

    [Fact]
    public void ABaseTopicAtTheEndOfATopicIsExpandedToo()
    {
        var entity = Entity("homeassistant/binary_sensor/door/config", """{"~":"hall/door","stat_t":"state/~","name":"Door"}""");

        Assert.Equal("state/hall/door", entity.StateTopic);
        Assert.Equal("binary_sensor/door", entity.UniqueId); // no unique_id: the config topic's component and object id
    }

    [Theory]
    [InlineData("{{ value }}", "21.5", 21.5)]
    [InlineData("{{value}}", "21.5", 21.5)]
    [InlineData("{{ value | float }}", " 21.5 ", 21.5)]
    [InlineData("{{ value_json }}", "21.5", 21.5)]
    [InlineData("{{ value_json.temperature }}", """{"temperature":21.5}""", 21.5)]
    [InlineData("{{ value_json.climate.temperature | float | round(1) }}", """{"climate":{"temperature":21.54}}""", 21.54)]
    [InlineData("{{ value_json['temp-c'] }}", """{"temp-c":"21.5"}""", 21.5)]
    [InlineData("{{ value_json[\"AM2301\"][\"Temperature\"] }}", """{"AM2301":{"Temperature":21.5}}""", 21.5)]
    [InlineData("{{ value_json.sensors[1].t | float(0) }}", """{"sensors":[{"t":1},{"t":21.5}]}""", 21.5)]
    [InlineData("{{- value_json.temperature | default(0) -}}", """{"temperature":-3.25}""", -3.25)]
    public void TemplatesOfTheCommonShapesReadTheValue(string template, string payload, double expected)
    {
        var entity = Entity("homeassistant/sensor/t/config",
            $$"""{"state_topic":"room/t","device_class":"temperature","unit_of_measurement":"°C","value_template":{{System.Text.Json.JsonSerializer.Serialize(template)}}}""");

        var state = State(entity, payload);

        Assert.Equal([new MqttValue("temperature", expected, "°C")], state.Message!.Values);
    }

    [Theory]
    [InlineData("{{ value_json.temperature * 10 }}")]
    [InlineData("{{ value_json.power | multiply(1000) }}")]
    [InlineData("{{ (value_json.temperature - 32) / 1.8 }}")]
    [InlineData("{% if value_json.x %}1{% endif %}")]
    [InlineData("{{ value.temperature }}")]
    [InlineData("{{ states('sensor.x') }}")]
    [InlineData("{{ value_json.a }} {{ value_json.b }}")]
    public void AnyOtherTemplateIsUnsupported(string template)
    {
        var config = Parse("homeassistant/sensor/t/config",
            $$"""{"state_topic":"room/t","device_class":"temperature","unit_of_measurement":"°C","value_template":{{System.Text.Json.JsonSerializer.Serialize(template)}}}""");

        Assert.Equal(DiscoveryConfigKind.Unsupported, config.Kind);
        Assert.Contains(template, config.Problem, StringComparison.Ordinal);
        Assert.Null(HomeAssistantDiscovery.ParseTemplate(template));
    }

    [Theory]
    [InlineData("temperature", "°F", 70.7, "temperature", 70.7, "°F")]
    [InlineData("humidity", "%", 45.5, "humidity", 45.5, "%")]
    [InlineData("pressure", "hPa", 1013.2, "pressure", 1013.2, "hPa")]
    [InlineData("pressure", "kPa", 101.32, "pressure", 1013.2, "hPa")]
    [InlineData("power", "kW", 1.85, "power", 1850, "W")]
    [InlineData("power", "W", 12, "power", 12, "W")]
    [InlineData("energy", "Wh", 6532, "energy", 6.532, "kWh")]
    [InlineData("energy", "kWh", 0.52, "energy", 0.52, "kWh")]
    [InlineData("battery", "%", 86, "battery", 86, "%")]
    [InlineData("voltage", "mV", 2995, "voltage", 2.995, "V")]
    [InlineData("current", "A", 0.122, "current", 0.122, "A")]
    [InlineData(null, "kW", 2, "power", 2000, "W")]
    [InlineData(null, "°C", 19.5, "temperature", 19.5, "°C")]
    public void UnitsBecomeHomeIqsMetricsAndUnits(string? deviceClass, string unit, double payload, string metric, double value, string homeIqUnit)
    {
        var deviceClassOption = deviceClass is null ? "" : $"\"device_class\":\"{deviceClass}\",";
        var entity = Entity("homeassistant/sensor/node1/m/config", $$"""{"state_topic":"node1/m",{{deviceClassOption}}"unit_of_measurement":"{{unit}}"}""");

        var values = State(entity, payload.ToString(System.Globalization.CultureInfo.InvariantCulture)).Message!.Values;

        Assert.Equal(metric, Assert.Single(values).Metric);
        Assert.Equal(value, values[0].Value, 9);
        Assert.Equal(homeIqUnit, values[0].Unit);
    }

    [Theory]
    [InlineData("homeassistant/sensor/lux/config", """{"state_topic":"a/lux","device_class":"illuminance","unit_of_measurement":"lx"}""")]
    [InlineData("homeassistant/sensor/t/config", """{"state_topic":"a/t","device_class":"temperature","unit_of_measurement":"K"}""")]
    [InlineData("homeassistant/sensor/pct/config", """{"state_topic":"a/pct","unit_of_measurement":"%"}""")]
    [InlineData("homeassistant/sensor/raw/config", """{"state_topic":"a/raw"}""")]
    [InlineData("homeassistant/cover/garage/config", """{"state_topic":"a/garage","command_topic":"a/garage/set"}""")]
    [InlineData("homeassistant/device/node/config", """{"dev":{"ids":"x"},"o":{"name":"x"},"cmps":{}}""")]
    [InlineData("homeassistant/switch/optimistic/config", """{"command_topic":"a/relay/set"}""")]
    [InlineData("homeassistant/light/rgb/config", """{"schema":"template","state_topic":"a/rgb","command_topic":"a/rgb/set"}""")]
    public void ConfigsHomeIqDoesNotFollowAreUnsupportedWithAReason(string topic, string payload)
    {
        var config = Parse(topic, payload);

        Assert.Equal(DiscoveryConfigKind.Unsupported, config.Kind);
        Assert.False(string.IsNullOrWhiteSpace(config.Problem));
        Assert.Null(config.Entity);
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("[1,2]")]
    [InlineData("\"sensor\"")]
    [InlineData("""{"state_topic":{"a":1},"device_class":"temperature","unit_of_measurement":"°C"}""")]
    [InlineData("""{"state_topic":"room/+/t","device_class":"temperature","unit_of_measurement":"°C"}""")]
    [InlineData("""{"state_topic":"room/t","unique_id":"   ","device_class":"temperature","unit_of_measurement":"°C"}""")]
    public void AConfigThatIsNotADiscoveryConfigIsMalformed(string payload)
    {
        var config = Parse("homeassistant/sensor/bad/config", payload);

        Assert.Equal(DiscoveryConfigKind.Malformed, config.Kind);
        Assert.False(string.IsNullOrWhiteSpace(config.Problem));
    }

    [Fact]
    public void AnEmptyConfigRemovesTheEntity()
    {
        var config = Parse("homeassistant/sensor/node1/t/config", "");

        Assert.Equal(new DiscoveryConfig(DiscoveryConfigKind.Removed, "homeassistant/sensor/node1/t/config"), config);
    }

    [Theory]
    [InlineData("homeassistant/sensor/t/config", true)]
    [InlineData("homeassistant/sensor/node/t/config", true)]
    [InlineData("homeassistant/sensor/config", false)]
    [InlineData("homeassistant/sensor/a/b/c/config", false)]
    [InlineData("homeassistant/sensor/t/state", false)]
    [InlineData("homeassistant/status", false)]
    [InlineData("other/sensor/t/config", false)]
    public void ConfigTopicsAreThoseUnderThePrefix(string topic, bool expected) =>
        Assert.Equal(expected, HomeAssistantDiscovery.IsConfigTopic(Prefix, topic));

    [Fact]
    public void AnotherDiscoveryPrefixIsFollowed()
    {
        var config = HomeAssistantDiscovery.Parse("site/ha", "site/ha/switch/relay/config", Encoding.UTF8.GetBytes("""{"stat_t":"relay/state"}"""));

        Assert.Equal(DiscoveryConfigKind.Entity, config.Kind);
        Assert.Equal(["site/ha/+/+/config", "site/ha/+/+/+/config"], HomeAssistantDiscovery.TopicFilters("site/ha"));
    }

    [Fact]
    public void ASwitchReadsItsStateWithItsPayloadsAndKeepsItsCommandTopic()
    {
        var entity = Entity("homeassistant/switch/irrigation/config", """
            {"name":"Irrigation","stat_t":"garden/irrigation/state","cmd_t":"garden/irrigation/set","pl_on":"1","pl_off":"0","uniq_id":"irr-1"}
            """);

        Assert.Equal("garden/irrigation/set", entity.CommandTopic);
        Assert.True(entity.IsOnOff);
        Assert.Equal("on", State(entity, "1").Message!.State);
        Assert.Equal("off", State(entity, "0").Message!.State);
        Assert.Empty(State(entity, "1").Message!.Values);
        Assert.Equal(MqttMessageKind.Malformed, State(entity, "ON").Kind); // not its payload_on
    }

    [Fact]
    public void ASwitchStateOnAndOffWinOverItsPayloads()
    {
        var entity = Entity("homeassistant/switch/relay/config", """
            {"stat_t":"relay/state","cmd_t":"relay/set","payload_on":"turn_on","payload_off":"turn_off","state_on":"is_on","state_off":"is_off"}
            """);

        Assert.Equal(("on", "off"), (State(entity, "is_on").Message!.State, State(entity, "is_off").Message!.State));
    }

    [Fact]
    public void OnOffEntitiesDefaultToOnAndOffAndReadJsonBooleansAsHomeAssistantPrintsThem()
    {
        var light = Entity("homeassistant/light/lamp/config", """{"stat_t":"lamp/state","cmd_t":"lamp/set","stat_val_tpl":"{{ value_json.state }}"}""");
        var contact = Entity("homeassistant/binary_sensor/door/config",
            """{"stat_t":"zigbee/door","val_tpl":"{{ value_json.contact }}","pl_on":false,"pl_off":true,"dev_cla":"door"}""");
        var jsonLight = Entity("homeassistant/light/strip/config", """{"schema":"json","stat_t":"strip/state","cmd_t":"strip/set"}""");

        Assert.Equal(("ON", "OFF"), (light.PayloadOn, light.PayloadOff));
        Assert.Equal("on", State(light, """{"state":"ON","brightness":120}""").Message!.State);
        Assert.Equal("off", State(contact, """{"contact":true}""").Message!.State);
        Assert.Equal("on", State(contact, """{"contact":false}""").Message!.State);
        Assert.Equal("off", State(jsonLight, """{"state":"OFF"}""").Message!.State);
    }

    [Theory]
    [InlineData("""{"humidity":40}""", MqttMessageKind.Malformed)]
    [InlineData("not json", MqttMessageKind.Malformed)]
    [InlineData("""{"temperature":"warm"}""", MqttMessageKind.Malformed)]
    [InlineData("""{"temperature":{"value":1}}""", MqttMessageKind.Malformed)]
    [InlineData("""{"temperature":null}""", MqttMessageKind.Ignored)]
    [InlineData("""{"temperature":"unavailable"}""", MqttMessageKind.Ignored)]
    public void AStateMessageWithoutAUsableValueGivesNoReading(string payload, MqttMessageKind expected)
    {
        var entity = Entity("homeassistant/sensor/t/config", """{"stat_t":"t","dev_cla":"temperature","unit_of_meas":"°C","val_tpl":"{{ value_json.temperature }}"}""");

        var state = State(entity, payload);

        Assert.Equal(expected, state.Kind);
        Assert.Null(state.Message);
    }

    [Fact]
    public void TheRegistryKeepsEntitiesByStateTopicAndTellsWhichTopicsToSubscribe()
    {
        var registry = new MqttDiscoveryRegistry();
        var temperature = Entity("homeassistant/sensor/climate/t/config", """{"stat_t":"climate","dev_cla":"temperature","unit_of_meas":"°C","val_tpl":"{{ value_json.t }}"}""");
        var humidity = Entity("homeassistant/sensor/climate/h/config", """{"stat_t":"climate","dev_cla":"humidity","unit_of_meas":"%","val_tpl":"{{ value_json.h }}"}""");

        Assert.Equal(new DiscoveryChange(true, "climate"), registry.Set(temperature));
        Assert.Equal(new DiscoveryChange(true), registry.Set(humidity)); // the topic is subscribed already
        Assert.Equal(new DiscoveryChange(false), registry.Set(temperature)); // a retained config again
        Assert.Equal([temperature, humidity], registry.ForStateTopic("climate"));
        Assert.Equal(new DiscoveryChange(true), registry.Remove(temperature.ConfigTopic));
        Assert.Equal([humidity], registry.ForStateTopic("climate"));
        var moved = humidity with { StateTopic = "climate2" };
        Assert.Equal(new DiscoveryChange(true, "climate2", "climate"), registry.Set(moved));
        Assert.Empty(registry.ForStateTopic("climate"));
        Assert.Equal(new DiscoveryChange(true, null, "climate2"), registry.Remove(moved.ConfigTopic));
        Assert.Equal(new DiscoveryChange(false), registry.Remove(moved.ConfigTopic));
        Assert.Equal(0, registry.Count);
        Assert.Empty(registry.StateTopics);
    }

    [Fact]
    public void TheRegistryIsSafeToFillFromSeveralThreads()
    {
        var registry = new MqttDiscoveryRegistry();
        Parallel.For(0, 200, i =>
        {
            var template = "{{ value_json.p" + i + " }}";
            var entity = Entity($"homeassistant/sensor/n{i}/config", $$"""{"stat_t":"shared/{{i % 10}}","dev_cla":"power","unit_of_meas":"W","val_tpl":"{{template}}"}""");
            registry.Set(entity);
            _ = registry.ForStateTopic($"shared/{i % 10}");
        });

        Assert.Equal(200, registry.Count);
        Assert.Equal(10, registry.StateTopics.Count);
        Assert.All(registry.StateTopics, t => Assert.Equal(20, registry.ForStateTopic(t).Count));
    }
}
