namespace HomeIQ.Contracts;

/// <summary>What kind of anomaly was found.</summary>
public enum AnomalyKind
{
    /// <summary>A value far from the device's recent behaviour.</summary>
    Outlier,
    /// <summary>No readings for longer than expected.</summary>
    Offline,
    /// <summary>The same value for longer than plausible.</summary>
    Stuck,
}

/// <summary>An anomaly was detected on a device metric.</summary>
[EventName("anomaly.detected.v1")]
public sealed record AnomalyDetected(Guid AnomalyId, Guid HomeId, Guid DeviceId, string Metric, AnomalyKind Kind, string Description, double? Value) : IntegrationEvent;

/// <summary>A previously detected anomaly ended.</summary>
[EventName("anomaly.resolved.v1")]
public sealed record AnomalyResolved(Guid AnomalyId, Guid HomeId, Guid DeviceId) : IntegrationEvent;
