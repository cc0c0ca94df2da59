using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Protocol;

namespace HomeIQ.Ingestion.Mqtt;

/// <summary>
/// Home Assistant MQTT discovery in the subscriber. Every replica subscribes to the config topics (<c>{prefix}/+/+/config</c>,
/// <c>{prefix}/+/+/+/config</c>) without <c>$share</c>, so each one gets every config (the retained ones on subscribe) and knows every
/// entity; each discovered state topic is subscribed as <c>$share/{group}/{topic}</c> (QoS 1), so the replicas split the state messages.
/// A message no built-in mapping knows is looked up here: a config updates the <see cref="MqttDiscoveryRegistry"/> (and never gives
/// readings), a state message of a known entity becomes a device message (<c>mqtt:ha/&lt;unique_id&gt;</c>).
/// </summary>
internal sealed class MqttDiscovery
{
    private readonly MqttOptions _options;
    private readonly MqttDiscoveryRegistry _registry;
    private readonly MqttMetrics _metrics;
    private readonly ILogger<MqttDiscovery> _logger;
    private readonly Counter<long> _configs;
    private readonly string[] _covered;

    public MqttDiscovery(IOptions<MqttOptions> options, MqttDiscoveryRegistry registry, MqttMetrics metrics, IMeterFactory meterFactory, ILogger<MqttDiscovery> logger)
    {
        _options = options.Value;
        _registry = registry;
        _metrics = metrics;
        _logger = logger;
        var homes = _options.Routes;
        ConfigFilters = [.. homes.Filters(HomeAssistantDiscovery.TopicFilters(_options.DiscoveryPrefix))];
        _covered = [.. homes.Filters(MqttMapper.TopicFilters), .. ConfigFilters];
        var meter = meterFactory.Create(MqttMetrics.MeterName);
        _configs = meter.CreateCounter<long>("homeiq.mqtt.discovery.configs", "{message}",
            "Home Assistant discovery configs received, by outcome (entity, removed, unsupported, malformed).");
        meter.CreateObservableGauge("homeiq.mqtt.discovery.entities", () => registry.Count, "{entity}", "Home Assistant discovery entities known.");
    }

    /// <summary>Whether discovery is on (<see cref="MqttOptions.Discovery"/>).</summary>
    public bool Enabled => _options.Discovery;

    /// <summary>The config topic filters under each home's prefix, subscribed on every replica.</summary>
    public string[] ConfigFilters { get; }

    /// <summary>After each (re)connect: the config topics, and the state topics of the entities already known, which a broker without the session no longer has.</summary>
    public async Task SubscribeAsync(IMqttClient client, CancellationToken cancellationToken)
    {
        if (!Enabled)
        {
            return;
        }
        var subscribe = new MqttClientSubscribeOptionsBuilder();
        foreach (var filter in ConfigFilters)
        {
            subscribe.WithTopicFilter(filter, MqttQualityOfServiceLevel.AtLeastOnce);
        }
        foreach (var topic in _registry.StateTopics.Where(NeedsSubscription))
        {
            subscribe.WithTopicFilter(Shared(topic), MqttQualityOfServiceLevel.AtLeastOnce);
        }
        Check(await client.SubscribeAsync(subscribe.Build(), cancellationToken));
    }

    /// <summary>
    /// A message <see cref="MqttMapper"/> does not know: a config is applied (<see cref="MqttMessageKind.Ignored"/>, or malformed), a state
    /// message of known entities gives one device message per entity that could read it; anything else stays <see cref="MqttMessageKind.UnknownTopic"/>.
    /// </summary>
    /// <param name="client">The subscriber's connection, which subscribes to a newly discovered state topic.</param>
    /// <param name="homePrefix">The topic prefix of the home the message's topic belongs to (configs are under <c>{homePrefix}{DiscoveryPrefix}/</c>).</param>
    /// <param name="topic">The whole topic, prefix included (state topics in configs are whole topics).</param>
    /// <param name="payload">The message's payload.</param>
    /// <param name="cancellationToken">Cancels a subscription in progress.</param>
    public async Task<(MqttMapping Mapping, IReadOnlyList<MqttDeviceMessage> Messages)> MapAsync(
        IMqttClient client, string homePrefix, string topic, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        if (!Enabled)
        {
            return (new(MqttMessageKind.UnknownTopic), []);
        }
        var discoveryPrefix = homePrefix + _options.DiscoveryPrefix;
        if (HomeAssistantDiscovery.IsConfigTopic(discoveryPrefix, topic))
        {
            return (await ApplyConfigAsync(client, HomeAssistantDiscovery.Parse(discoveryPrefix, topic, payload.Span), cancellationToken), []);
        }
        var entities = _registry.ForStateTopic(topic);
        if (entities.Count == 0)
        {
            return (new(MqttMessageKind.UnknownTopic), []);
        }
        var messages = new List<MqttDeviceMessage>(entities.Count);
        string? problem = null;
        foreach (var entity in entities)
        {
            var mapping = HomeAssistantDiscovery.MapState(entity, payload.Span);
            if (mapping.Kind == MqttMessageKind.Device)
            {
                messages.Add(mapping.Message!);
            }
            problem ??= mapping.Problem;
        }
        return messages.Count > 0 ? (new(MqttMessageKind.Device, messages[0]), messages)
            : problem is not null ? (MqttMapping.Malformed(problem), [])
            : (new(MqttMessageKind.Ignored), []);
    }

    private async Task<MqttMapping> ApplyConfigAsync(IMqttClient client, DiscoveryConfig config, CancellationToken cancellationToken)
    {
        _configs.Add(1, new KeyValuePair<string, object?>("outcome", config.Kind.ToString().ToLowerInvariant()));
        DiscoveryChange change;
        switch (config.Kind)
        {
            case DiscoveryConfigKind.Entity:
                var entity = config.Entity!;
                change = _registry.Set(entity);
                if (change.Changed)
                {
                    _logger.LogInformation("Home Assistant discovery: {Component} {UniqueId} ({Name}) on {StateTopic} is {ExternalId}, {What}",
                        entity.Component, entity.UniqueId, entity.Name, entity.StateTopic, entity.ExternalId,
                        entity.IsOnOff ? "an on/off state" : $"{entity.Metric} in {entity.Unit}");
                }
                break;
            case DiscoveryConfigKind.Removed:
                change = _registry.Remove(config.ConfigTopic);
                if (change.Changed)
                {
                    _logger.LogInformation("Home Assistant discovery: the entity of {ConfigTopic} was removed", config.ConfigTopic);
                }
                break;
            case DiscoveryConfigKind.Unsupported:
                change = _registry.Remove(config.ConfigTopic); // it may have described a supported entity before
                if (_metrics.FirstTime($"discovery:{config.ConfigTopic}"))
                {
                    _logger.LogInformation("Home Assistant discovery: not following {ConfigTopic}: {Reason} (logged once per topic)", config.ConfigTopic, config.Problem);
                }
                break;
            default:
                return MqttMapping.Malformed(config.Problem!); // the entity it described before, if any, stays (as in Home Assistant)
        }
        if (change.AddedStateTopic is { } added && NeedsSubscription(added))
        {
            Check(await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder()
                .WithTopicFilter(Shared(added), MqttQualityOfServiceLevel.AtLeastOnce).Build(), cancellationToken));
        }
        if (change.RemovedStateTopic is { } removed && NeedsSubscription(removed))
        {
            await client.UnsubscribeAsync(new MqttClientUnsubscribeOptionsBuilder().WithTopicFilter(Shared(removed)).Build(), cancellationToken);
        }
        return new(MqttMessageKind.Ignored);
    }

    private string Shared(string topic) => $"$share/{_options.ShareGroup}/{topic}";

    /// <summary>A state topic a built-in filter (or a config filter) already covers arrives anyway: a second subscription would deliver it twice.</summary>
    private bool NeedsSubscription(string topic) => !_covered.Any(filter => MqttTopics.Matches(filter, topic));

    private void Check(MqttClientSubscribeResult result)
    {
        foreach (var item in result.Items)
        {
            if (item.ResultCode > MqttClientSubscribeResultCode.GrantedQoS2 && _metrics.FirstTime($"subscribe:{item.TopicFilter.Topic}"))
            {
                _logger.LogWarning("The MQTT broker refused the subscription {Filter} ({Code}): Home Assistant discovery misses its messages (logged once)",
                    item.TopicFilter.Topic, item.ResultCode);
            }
        }
    }
}

/// <summary>MQTT topic filter matching (<c>+</c> one level, <c>#</c> the rest).</summary>
internal static class MqttTopics
{
    public static bool Matches(string filter, string topic)
    {
        var filters = filter.Split('/');
        var levels = topic.Split('/');
        for (var i = 0; i < filters.Length; i++)
        {
            if (filters[i] == "#")
            {
                return true;
            }
            if (i >= levels.Length || (filters[i] != "+" && filters[i] != levels[i]))
            {
                return false;
            }
        }
        return filters.Length == levels.Length;
    }
}
