namespace HomeIQ.Ingestion.Mqtt;

/// <summary>The <c>Mqtt</c> section: which homes the broker's topics belong to, and how the subscription behaves.</summary>
public sealed class MqttOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Mqtt";

    /// <summary>The HomeIQ home the broker's topics belong to, as they are (no prefix): the usual set-up, one broker per home.</summary>
    public string? HomeId { get; set; }

    /// <summary>
    /// Homes that share the broker, each under a topic prefix (<c>Mqtt:Homes:0:HomeId</c>, <c>Mqtt:Homes:0:TopicPrefix</c> = <c>flat-2/</c>:
    /// its devices publish <c>flat-2/zigbee2mqtt/…</c>). With neither this nor <see cref="HomeId"/> nothing is subscribed.
    /// </summary>
    public List<MqttHome> Homes { get; set; } = [];

    /// <summary>Whether a device with no HomeIQ device of its external id (<c>mqtt:zigbee2mqtt/…</c>) is registered (otherwise it is skipped).</summary>
    public bool RegisterUnknownDevices { get; set; }

    /// <summary>The shared-subscription group: the replicas subscribe as <c>$share/{group}/…</c> and the broker splits messages between them.</summary>
    public string ShareGroup { get; set; } = "homeiq";

    /// <summary>
    /// Whether Home Assistant MQTT discovery configs (<c>{DiscoveryPrefix}/&lt;component&gt;/…/config</c>) are followed: each replica reads them all,
    /// and the state topics they name are subscribed (shared) and mapped like the built-in topics.
    /// </summary>
    public bool Discovery { get; set; } = true;

    /// <summary>The Home Assistant discovery prefix (Home Assistant's default, <c>homeassistant</c>).</summary>
    public string DiscoveryPrefix { get; set; } = HomeAssistantDiscovery.DefaultPrefix;

    /// <summary>
    /// The most messages the broker may send this replica before it acknowledges them (MQTT 5 Receive Maximum); the protocol's largest by
    /// default. A wide window keeps a backlog flowing to the replica instead of queued in the broker's session, where Mosquitto before
    /// 2.0.13 (Debian 12 ships 2.0.11) can starve a session to a few hundred messages a second (its inflight quota bookkeeping, fixed
    /// upstream by eclipse/mosquitto#2306); the messages wait in this replica's memory instead, unacknowledged (a replica held
    /// 300–440 MiB in a 400,000-message burst).
    /// </summary>
    public ushort ReceiveMaximum { get; set; } = ushort.MaxValue;

    /// <summary>The most messages handled as one batch (one publish of readings per home, then their acknowledgements).</summary>
    public int MaxBatchMessages { get; set; } = 1000;

    /// <summary>
    /// How long a replica waits for more messages when fewer than a full batch have arrived (0 for none): at moderate rates this turns
    /// many one-message publishes into a few larger ones, for at most this much added latency.
    /// </summary>
    public TimeSpan BatchLinger { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// How long a batch waits before it is offered again when the pipeline turns it away because the store is behind (or the broker is
    /// away): steady, not growing, so intake resumes as soon as the backlog shrinks. The messages wait in the MQTT broker meanwhile.
    /// </summary>
    public TimeSpan BackpressureRetry { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The first reconnect delay; it doubles per failed attempt up to <see cref="ReconnectMaxDelay"/>.</summary>
    public TimeSpan ReconnectInitialDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest reconnect (and publish retry) delay.</summary>
    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a cached external id → device map is trusted before an unknown external id reloads it.</summary>
    public TimeSpan DeviceMapRefresh { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The homes and their prefixes: <see cref="Homes"/> and <see cref="HomeId"/> (with no prefix).</summary>
    internal MqttHomes Routes => new([.. Homes, .. HomeId is null ? Array.Empty<MqttHome>() : [new MqttHome { HomeId = HomeId }]]);
}

/// <summary>One home on the broker: its id and the prefix of its topics (empty, or ending in <c>/</c>).</summary>
public sealed class MqttHome
{
    public string? HomeId { get; set; }

    public string TopicPrefix { get; set; } = "";
}

/// <summary>Which home a topic belongs to: the home with the longest prefix the topic starts with. Pure.</summary>
public sealed class MqttHomes
{
    private readonly (Guid HomeId, string Prefix)[] _homes;

    public MqttHomes(IEnumerable<MqttHome> homes)
    {
        ArgumentNullException.ThrowIfNull(homes);
        var valid = new List<(Guid, string)>();
        var problems = new List<string>();
        foreach (var home in homes)
        {
            var prefix = home.TopicPrefix ?? "";
            if (!Guid.TryParse(home.HomeId, out var id) || id == Guid.Empty)
            {
                problems.Add($"'{home.HomeId}' is not a home id");
            }
            else if (prefix.Length > 0 && (!prefix.EndsWith('/') || prefix.IndexOfAny(['+', '#']) >= 0 || prefix.StartsWith('$')))
            {
                problems.Add($"the topic prefix '{prefix}' of home {id} must end with '/' and have no '+', '#' or leading '$'");
            }
            else if (valid.Any(v => v.Item2 == prefix))
            {
                problems.Add($"two homes have the topic prefix '{prefix}'");
            }
            else
            {
                valid.Add((id, prefix));
            }
        }
        _homes = [.. valid.OrderByDescending(h => h.Item2.Length)];
        Problems = problems;
    }

    /// <summary>Entries that were left out, and why.</summary>
    public IReadOnlyList<string> Problems { get; }

    public bool IsEmpty => _homes.Length == 0;

    public IEnumerable<Guid> HomeIds => _homes.Select(h => h.HomeId);

    /// <summary>Every home's prefix before each of <paramref name="filters"/>.</summary>
    public IEnumerable<string> Filters(IEnumerable<string> filters) => _homes.SelectMany(h => filters.Select(f => h.Prefix + f)).Distinct(StringComparer.Ordinal);

    /// <summary>The home of <paramref name="topic"/> and the topic without its prefix; null when no home's prefix fits.</summary>
    public (Guid HomeId, string Topic)? Route(string topic)
    {
        ArgumentNullException.ThrowIfNull(topic);
        foreach (var (homeId, prefix) in _homes)
        {
            if (topic.StartsWith(prefix, StringComparison.Ordinal) && topic.Length > prefix.Length)
            {
                return (homeId, topic[prefix.Length..]);
            }
        }
        return null;
    }

    /// <summary>The prefix of a home's topics; null when the home is not on this broker.</summary>
    public string? PrefixOf(Guid homeId) => _homes.FirstOrDefault(h => h.HomeId == homeId) is { Prefix: { } p } found && found.HomeId == homeId ? p : null;
}
