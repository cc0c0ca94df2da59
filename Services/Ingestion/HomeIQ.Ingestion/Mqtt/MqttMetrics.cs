using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace HomeIQ.Ingestion.Mqtt;

/// <summary>The subscriber's counters (meter <c>HomeIQ.Ingestion.Mqtt</c>), with running totals for tests, and once-per-topic logging.</summary>
public sealed class MqttMetrics
{
    /// <summary>The meter name.</summary>
    public const string MeterName = "HomeIQ.Ingestion.Mqtt";

    private const int MaxRememberedTopics = 10_000;
    private readonly Counter<long> _received;
    private readonly Counter<long> _skipped;
    private readonly Counter<long> _readings;
    private readonly Counter<long> _rejected;
    private readonly ConcurrentDictionary<string, byte> _logged = new(StringComparer.Ordinal);
    private long _unknownTopics;
    private long _malformed;

    public MqttMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _received = meter.CreateCounter<long>("homeiq.mqtt.messages.received", "{message}", "MQTT messages received.");
        _skipped = meter.CreateCounter<long>("homeiq.mqtt.messages.skipped", "{message}", "Messages not turned into readings, by reason (unknown-topic, malformed, unknown-device).");
        _readings = meter.CreateCounter<long>("homeiq.mqtt.readings.published", "{reading}", "Readings the broker confirmed.");
        _rejected = meter.CreateCounter<long>("homeiq.mqtt.readings.rejected", "{reading}", "Readings the pipeline's validation rejected.");
    }

    /// <summary>Messages on a topic no mapping knows, since start.</summary>
    public long UnknownTopics => Interlocked.Read(ref _unknownTopics);

    /// <summary>Messages whose payload was not what the topic's project sends, since start.</summary>
    public long Malformed => Interlocked.Read(ref _malformed);

    internal void Received() => _received.Add(1);

    internal void Published(int readings, int rejected)
    {
        _readings.Add(readings);
        _rejected.Add(rejected);
    }

    internal void Skipped(MqttMessageKind kind)
    {
        if (kind == MqttMessageKind.UnknownTopic)
        {
            Interlocked.Increment(ref _unknownTopics);
        }
        else if (kind == MqttMessageKind.Malformed)
        {
            Interlocked.Increment(ref _malformed);
        }
        _skipped.Add(1, new KeyValuePair<string, object?>("reason", kind == MqttMessageKind.UnknownTopic ? "unknown-topic" : "malformed"));
    }

    internal void SkippedUnknownDevice() => _skipped.Add(1, new KeyValuePair<string, object?>("reason", "unknown-device"));

    /// <summary>True the first time a topic (or key) is seen: the caller logs then, so a chatty bad device makes one line, not thousands.</summary>
    internal bool FirstTime(string key) => _logged.Count < MaxRememberedTopics && _logged.TryAdd(key, 0);
}
