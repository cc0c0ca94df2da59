namespace HomeIQ.Ingestion.Mqtt;

/// <summary>The <c>Mqtt</c> section: which home the broker's devices belong to, and how the subscription behaves.</summary>
public sealed class MqttOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Mqtt";

    /// <summary>The HomeIQ home every device on this broker belongs to (phase 1: one home per broker). Without it nothing is subscribed.</summary>
    public string? HomeId { get; set; }

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
    /// A message with the same topic and payload within this window is the same reading (a QoS 1 redelivery, or a device resending): it gets
    /// the first one's timestamp, so Readings stores it once.
    /// </summary>
    public TimeSpan DuplicateWindow { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>The first reconnect delay; it doubles per failed attempt up to <see cref="ReconnectMaxDelay"/>.</summary>
    public TimeSpan ReconnectInitialDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest reconnect (and publish retry) delay.</summary>
    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a cached external id → device map is trusted before an unknown external id reloads it.</summary>
    public TimeSpan DeviceMapRefresh { get; set; } = TimeSpan.FromSeconds(30);

    internal Guid? Home => Guid.TryParse(HomeId, out var home) && home != Guid.Empty ? home : null;
}
