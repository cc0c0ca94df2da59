namespace HomeIQ.Hosting.Dashboard.Telemetry;

/// <summary>Bounds on what the dashboard's telemetry store and OTLP receiver keep and accept.</summary>
public sealed class TelemetryLimits
{
    /// <summary>Log records kept; the oldest is evicted first.</summary>
    public int MaxLogs { get; set; } = 10_000;

    /// <summary>Traces kept (a trace is every span sharing a trace id); the oldest whole trace is evicted first.</summary>
    public int MaxTraces { get; set; } = 10_000;

    /// <summary>Spans kept per trace; later spans of a full trace are dropped.</summary>
    public int MaxSpansPerTrace { get; set; } = 1_000;

    /// <summary>Spans kept over all traces; whole oldest traces are evicted to stay under it.</summary>
    public int MaxSpans { get; set; } = 100_000;

    /// <summary>Events kept per span; later events are dropped.</summary>
    public int MaxEventsPerSpan { get; set; } = 128;

    /// <summary>Attributes kept per span, event, log record or metric series; later ones are dropped.</summary>
    public int MaxAttributeCount { get; set; } = 128;

    /// <summary>Log messages and span names longer than this are cut to this many characters.</summary>
    public int MaxMessageLength { get; set; } = 32_768;

    /// <summary>Metric series (resource, instance, instrument, attribute set); new series beyond it are dropped.</summary>
    public int MaxMetricSeries { get; set; } = 2_000;

    /// <summary>Points kept per metric series; the oldest is evicted first.</summary>
    public int MaxPointsPerSeries { get; set; } = 600;

    /// <summary>Largest OTLP request body accepted, before and after gzip decompression.</summary>
    public long MaxRequestBodyBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Attribute keys and values longer than this are cut to this many characters.</summary>
    public int MaxAttributeValueLength { get; set; } = 4096;
}
