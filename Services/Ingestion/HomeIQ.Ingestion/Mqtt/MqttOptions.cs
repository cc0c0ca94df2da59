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
    /// The most messages the broker may send this replica before it acknowledges them (MQTT 5 Receive Maximum); messages are handled in
    /// batches of up to half of it, so the next batch arrives while one is being published.
    /// </summary>
    public ushort ReceiveMaximum { get; set; } = 2000;

    /// <summary>The first reconnect delay; it doubles per failed attempt up to <see cref="ReconnectMaxDelay"/>.</summary>
    public TimeSpan ReconnectInitialDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest reconnect (and publish retry) delay.</summary>
    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a cached external id → device map is trusted before an unknown external id reloads it.</summary>
    public TimeSpan DeviceMapRefresh { get; set; } = TimeSpan.FromSeconds(30);

    internal Guid? Home => Guid.TryParse(HomeId, out var home) && home != Guid.Empty ? home : null;
}
