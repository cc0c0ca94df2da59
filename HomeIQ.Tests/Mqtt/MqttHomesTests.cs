using HomeIQ.Ingestion.Mqtt;

namespace HomeIQ.Tests.Mqtt;

/// <summary>Homes sharing a broker under topic prefixes: which home a topic belongs to, what is subscribed, and bad settings.</summary>
public sealed class MqttHomesTests
{
    private static readonly Guid Plain = Guid.NewGuid();
    private static readonly Guid Flat = Guid.NewGuid();
    private static readonly Guid Attic = Guid.NewGuid();

    private static MqttHomes Homes(params (string? Id, string Prefix)[] homes) =>
        new(homes.Select(h => new MqttHome { HomeId = h.Id, TopicPrefix = h.Prefix }));

    [Fact]
    public void ATopicBelongsToTheHomeWithTheLongestPrefixItStartsWith()
    {
        var homes = Homes((Plain.ToString(), ""), (Flat.ToString(), "flat/"), (Attic.ToString(), "flat/attic/"));

        Assert.Equal((Plain, "zigbee2mqtt/lamp"), homes.Route("zigbee2mqtt/lamp"));
        Assert.Equal((Flat, "zigbee2mqtt/lamp"), homes.Route("flat/zigbee2mqtt/lamp"));
        Assert.Equal((Attic, "tele/plug/SENSOR"), homes.Route("flat/attic/tele/plug/SENSOR"));
        Assert.Equal(["flat/attic/zigbee2mqtt/#", "flat/zigbee2mqtt/#", "zigbee2mqtt/#"], homes.Filters(["zigbee2mqtt/#"]));
        Assert.Equal(("flat/", (string?)null), (homes.PrefixOf(Flat), homes.PrefixOf(Guid.NewGuid())));
    }

    [Fact]
    public void WithoutAHomeWithoutPrefixATopicOutsideEveryPrefixHasNoHome()
    {
        var homes = Homes((Flat.ToString(), "flat/"));

        Assert.Null(homes.Route("zigbee2mqtt/lamp"));
        Assert.Null(homes.Route("flat/"));
    }

    [Fact]
    public void BadEntriesAreLeftOutWithTheirReasons()
    {
        var homes = Homes(("not-a-home", ""), (Flat.ToString(), "flat"), (Attic.ToString(), "a/+/"), (Plain.ToString(), "x/"), (Guid.NewGuid().ToString(), "x/"));

        Assert.Equal([Plain], homes.HomeIds);
        Assert.Equal(4, homes.Problems.Count);
        Assert.Contains(homes.Problems, p => p.Contains("not-a-home", StringComparison.Ordinal));
        Assert.Contains(homes.Problems, p => p.Contains("'flat'", StringComparison.Ordinal));
        Assert.Contains(homes.Problems, p => p.Contains("two homes", StringComparison.Ordinal));
        Assert.True(Homes().IsEmpty);
    }
}
