namespace HomeIQ.Contracts;

/// <summary>One measurement from a sensor.</summary>
/// <param name="DeviceId">The HomeIQ device.</param>
/// <param name="Metric">What is measured: <c>temperature</c>, <c>power</c>, <c>energy</c>, <c>humidity</c>…</param>
/// <param name="Value">The value, in <paramref name="Unit"/>.</param>
/// <param name="Unit">The unit: <c>°C</c>, <c>W</c>, <c>kWh</c>, <c>%</c>…</param>
/// <param name="Timestamp">When it was measured.</param>
/// <param name="Sequence">The sender's sequence number, when it has one.</param>
public sealed record SensorReading(Guid DeviceId, string Metric, double Value, string Unit, DateTimeOffset Timestamp, long? Sequence = null);

/// <summary>A validated batch of readings of one home, accepted by ingestion.</summary>
[EventName("readings.received.v1")]
public sealed record SensorReadingsReceived(Guid HomeId, string Source, IReadOnlyList<SensorReading> Readings) : IntegrationEvent;

/// <summary>The latest stored value of one device metric.</summary>
public sealed record LatestReading(Guid DeviceId, string Metric, double Value, string Unit, DateTimeOffset Timestamp);

/// <summary>Readings were committed to the time-series store.</summary>
[EventName("readings.stored.v1")]
public sealed record ReadingsStored(Guid HomeId, int Count, IReadOnlyList<LatestReading> Latest) : IntegrationEvent;
