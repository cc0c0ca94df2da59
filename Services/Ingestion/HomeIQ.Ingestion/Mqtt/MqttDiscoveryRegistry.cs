namespace HomeIQ.Ingestion.Mqtt;

/// <summary>What a change to the <see cref="MqttDiscoveryRegistry"/> did.</summary>
/// <param name="Changed">False when the config was the one already known (a retained config delivered again on resubscribe).</param>
/// <param name="AddedStateTopic">A state topic no entity had before: to subscribe.</param>
/// <param name="RemovedStateTopic">A state topic no entity has any more: to unsubscribe.</param>
public readonly record struct DiscoveryChange(bool Changed, string? AddedStateTopic = null, string? RemovedStateTopic = null);

/// <summary>
/// The entities Home Assistant discovery configs describe, by config topic and by state topic (several entities may share one state
/// topic, each with its own template). Thread-safe; every replica fills its own from the configs it receives.
/// </summary>
public sealed class MqttDiscoveryRegistry
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, DiscoveredEntity> _byConfigTopic = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DiscoveredEntity[]> _byStateTopic = new(StringComparer.Ordinal);

    /// <summary>How many entities are known.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _byConfigTopic.Count;
            }
        }
    }

    /// <summary>The state topics of the known entities.</summary>
    public IReadOnlyList<string> StateTopics
    {
        get
        {
            lock (_lock)
            {
                return [.. _byStateTopic.Keys];
            }
        }
    }

    /// <summary>The entities whose state topic is <paramref name="stateTopic"/> (empty when none).</summary>
    public IReadOnlyList<DiscoveredEntity> ForStateTopic(string stateTopic)
    {
        lock (_lock)
        {
            return _byStateTopic.TryGetValue(stateTopic, out var entities) ? entities : [];
        }
    }

    /// <summary>The entity that is the HomeIQ device with <paramref name="externalId"/> (<c>mqtt:ha/&lt;unique_id&gt;</c>), if known.</summary>
    public DiscoveredEntity? ForExternalId(string externalId)
    {
        lock (_lock)
        {
            return _byConfigTopic.Values.FirstOrDefault(e => e.ExternalId == externalId);
        }
    }

    /// <summary>Adds the entity of its config topic, or replaces the one that config topic described before.</summary>
    public DiscoveryChange Set(DiscoveredEntity entity)
    {
        ArgumentNullException.ThrowIfNull(entity);
        lock (_lock)
        {
            string? removed = null;
            if (_byConfigTopic.TryGetValue(entity.ConfigTopic, out var old))
            {
                if (old == entity)
                {
                    return new(false);
                }
                removed = Detach(old);
            }
            _byConfigTopic[entity.ConfigTopic] = entity;
            var added = !_byStateTopic.TryGetValue(entity.StateTopic, out var sharing);
            _byStateTopic[entity.StateTopic] = [.. (sharing ?? []), entity];
            return removed == entity.StateTopic ? new(true) : new(true, added ? entity.StateTopic : null, removed);
        }
    }

    /// <summary>Forgets the entity of <paramref name="configTopic"/> (an empty config).</summary>
    public DiscoveryChange Remove(string configTopic)
    {
        lock (_lock)
        {
            if (!_byConfigTopic.Remove(configTopic, out var old))
            {
                return new(false);
            }
            return new(true, null, Detach(old));
        }
    }

    /// <summary>Takes the entity off its state topic; the topic when no entity is left on it.</summary>
    private string? Detach(DiscoveredEntity entity)
    {
        var left = _byStateTopic[entity.StateTopic].Where(e => e.ConfigTopic != entity.ConfigTopic).ToArray();
        if (left.Length > 0)
        {
            _byStateTopic[entity.StateTopic] = left;
            return null;
        }
        _byStateTopic.Remove(entity.StateTopic);
        return entity.StateTopic;
    }
}
