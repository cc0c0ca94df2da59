namespace HomeIQ.Contracts;

/// <summary>What kind of anomaly was found. Events carry it as a number: new kinds are appended, never inserted.</summary>
public enum AnomalyKind
{
    /// <summary>A value far from the device's recent behaviour (a spike of one or a few readings).</summary>
    Outlier,
    /// <summary>No readings for longer than expected.</summary>
    Offline,
    /// <summary>The same value for longer than plausible.</summary>
    Stuck,
    /// <summary>The level moved to a new value and stayed there (a step or a drift that the recent behaviour does not explain).</summary>
    LevelShift,
    /// <summary>A physically impossible value or rate of change for the metric (humidity above 100 %, 30 °C in a minute).</summary>
    Implausible,
}

/// <summary>How far from normal: how many learned deviations, or how many expected intervals, the evidence spans.</summary>
public enum AnomalySeverity
{
    /// <summary>Just past the threshold.</summary>
    Low,
    /// <summary>Clearly abnormal.</summary>
    Medium,
    /// <summary>Far outside anything learned, or physically impossible.</summary>
    High,
}

/// <summary>
/// An anomaly was detected on a device metric, with the evidence: the severity, the range the detector expected
/// (<paramref name="ExpectedLow"/>..<paramref name="ExpectedHigh"/>; for Offline and Stuck, in seconds of silence or stillness)
/// and when the triggering reading was measured. What Anomalies publishes.
/// </summary>
[EventName("anomaly.detected.v2")]
public sealed record AnomalyDetected(Guid AnomalyId, Guid HomeId, Guid DeviceId, string Metric, AnomalyKind Kind, AnomalySeverity Severity,
    string Description, double? Value, double? ExpectedLow, double? ExpectedHigh, DateTimeOffset ObservedAt) : IntegrationEvent;

/// <summary>A previously detected anomaly ended.</summary>
[EventName("anomaly.resolved.v1")]
public sealed record AnomalyResolved(Guid AnomalyId, Guid HomeId, Guid DeviceId) : IntegrationEvent;
