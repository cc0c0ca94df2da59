namespace HomeIQ.Hosting.Dashboard.Telemetry;

/// <summary>What the store holds and what it evicted, dropped or truncated since it started.</summary>
public sealed record TelemetryStats
{
    /// <summary>Log records held.</summary>
    public long Logs { get; init; }

    /// <summary>Log records evicted to make room for newer ones.</summary>
    public long LogsEvicted { get; init; }

    /// <summary>Traces held.</summary>
    public long Traces { get; init; }

    /// <summary>Spans held over all traces.</summary>
    public long Spans { get; init; }

    /// <summary>Whole traces evicted (oldest first).</summary>
    public long TracesEvicted { get; init; }

    /// <summary>Spans removed with evicted traces.</summary>
    public long SpansEvicted { get; init; }

    /// <summary>Spans refused because their trace was full.</summary>
    public long SpansDropped { get; init; }

    /// <summary>Metric series held.</summary>
    public long MetricSeries { get; init; }

    /// <summary>Metric points held over all series.</summary>
    public long MetricPoints { get; init; }

    /// <summary>Metric points refused because their series would exceed the series cap.</summary>
    public long MetricPointsDropped { get; init; }

    /// <summary>New series refused because the series cap was reached.</summary>
    public long MetricSeriesDropped { get; init; }

    /// <summary>Attribute keys or values, messages and names cut to the length limit.</summary>
    public long ValuesTruncated { get; init; }

    /// <summary>Attributes and span events dropped by the count limits.</summary>
    public long AttributesDropped { get; init; }

    /// <summary>OTLP requests refused with a 4xx status.</summary>
    public long RequestsRejected { get; init; }
}
