namespace HomeIQ.Hosting.Dashboard.Telemetry;

/// <summary>The kind of telemetry that changed in the <see cref="TelemetryStore"/>.</summary>
public enum TelemetryKind
{
    /// <summary>Log records.</summary>
    Logs,

    /// <summary>Spans and traces.</summary>
    Traces,

    /// <summary>Metric points.</summary>
    Metrics,
}
