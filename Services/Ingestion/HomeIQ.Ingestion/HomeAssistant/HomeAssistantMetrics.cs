using System.Diagnostics.Metrics;

namespace HomeIQ.Ingestion.HomeAssistant;

/// <summary>The bridge's counters (meter <c>HomeIQ.Ingestion.HomeAssistant</c>), with running totals for health and benchmarks.</summary>
public sealed class HomeAssistantMetrics
{
    /// <summary>The meter name.</summary>
    public const string MeterName = "HomeIQ.Ingestion.HomeAssistant";

    private readonly Counter<long> _received;
    private readonly Counter<long> _readings;
    private readonly Counter<long> _states;
    private readonly Counter<long> _skipped;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _reconnects;
    private readonly Counter<long> _publishRetries;
    private long _receivedTotal;
    private long _readingsTotal;
    private long _statesTotal;
    private long _skippedTotal;
    private long _rejectedTotal;
    private long _reconnectsTotal;
    private long _publishRetriesTotal;

    public HomeAssistantMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _received = meter.CreateCounter<long>("homeiq.homeassistant.events.received", "{event}", "state_changed events received from Home Assistant.");
        _readings = meter.CreateCounter<long>("homeiq.homeassistant.readings.published", "{reading}", "Readings the broker confirmed.");
        _states = meter.CreateCounter<long>("homeiq.homeassistant.states.published", "{state}", "Device state changes the broker confirmed.");
        _skipped = meter.CreateCounter<long>("homeiq.homeassistant.events.skipped", "{event}", "Events not turned into readings or states, by reason.");
        _rejected = meter.CreateCounter<long>("homeiq.homeassistant.readings.rejected", "{reading}", "Readings the pipeline's validation rejected.");
        _reconnects = meter.CreateCounter<long>("homeiq.homeassistant.reconnects", "{reconnect}", "Connections to Home Assistant re-established after a loss.");
        _publishRetries = meter.CreateCounter<long>("homeiq.homeassistant.publish.retries", "{retry}", "Batches retried because the broker was unavailable.");
        meter.CreateObservableGauge("homeiq.homeassistant.buffer.items", () => BufferedItems(), "{item}", "Readings and states waiting for the broker.");
    }

    /// <summary>Reports the buffer length (set by the forwarder).</summary>
    internal Func<int> BufferedItems { get; set; } = () => 0;

    /// <summary>Readings and states waiting for the broker now.</summary>
    public int Buffered => BufferedItems();

    public long EventsReceived => Interlocked.Read(ref _receivedTotal);
    public long ReadingsPublished => Interlocked.Read(ref _readingsTotal);
    public long StatesPublished => Interlocked.Read(ref _statesTotal);
    public long Skipped => Interlocked.Read(ref _skippedTotal);
    public long Rejected => Interlocked.Read(ref _rejectedTotal);
    public long Reconnects => Interlocked.Read(ref _reconnectsTotal);
    public long PublishRetries => Interlocked.Read(ref _publishRetriesTotal);

    internal void EventReceived()
    {
        Interlocked.Increment(ref _receivedTotal);
        _received.Add(1);
    }

    internal void Published(int readings, int states, int rejected)
    {
        Interlocked.Add(ref _readingsTotal, readings);
        Interlocked.Add(ref _statesTotal, states);
        Interlocked.Add(ref _rejectedTotal, rejected);
        _readings.Add(readings);
        _states.Add(states);
        if (rejected > 0)
        {
            _rejected.Add(rejected);
        }
    }

    internal void Skip(string reason)
    {
        Interlocked.Increment(ref _skippedTotal);
        _skipped.Add(1, new KeyValuePair<string, object?>("reason", reason));
    }

    internal void Reconnect()
    {
        Interlocked.Increment(ref _reconnectsTotal);
        _reconnects.Add(1);
    }

    internal void PublishRetry()
    {
        Interlocked.Increment(ref _publishRetriesTotal);
        _publishRetries.Add(1);
    }
}
