namespace HomeIQ.Hosting.Dashboard.Telemetry;

/// <summary>The points of one instrument from one resource instance, as handed to the store.</summary>
public sealed class MetricData
{
    /// <summary>The <c>service.name</c> of the sender.</summary>
    public required string Resource { get; init; }

    /// <summary>The <c>service.instance.id</c> of the sender, or empty.</summary>
    public string Instance { get; init; } = "";

    /// <summary>Instrument name.</summary>
    public required string Name { get; init; }

    /// <summary>Instrument description.</summary>
    public string Description { get; init; } = "";

    /// <summary>Unit (UCUM), or empty.</summary>
    public string Unit { get; init; } = "";

    /// <summary>What the values mean.</summary>
    public required MetricType Type { get; init; }

    /// <summary>Whether sums and histograms are cumulative or per interval.</summary>
    public MetricTemporality Temporality { get; init; } = MetricTemporality.Cumulative;

    /// <summary>Points with their attribute sets.</summary>
    public required IReadOnlyList<MetricDataPoint> Points { get; init; }
}

/// <summary>A point and the attribute set of its series.</summary>
public sealed record MetricDataPoint(KeyValuePair<string, string>[] Attributes, MetricPoint Point);

/// <summary>One metric point: a number, or a histogram when <see cref="Histogram"/> is set.</summary>
public readonly record struct MetricPoint(ulong StartUnixNano, ulong TimeUnixNano, double Value, HistogramValue? Histogram = null);

/// <summary>An explicit-bucket histogram point: <c>BucketCounts.Length == Bounds.Length + 1</c> when well formed.</summary>
public sealed record HistogramValue(ulong Count, double Sum, double[] Bounds, ulong[] BucketCounts, double? Min = null, double? Max = null);

/// <summary>Instrument type as the dashboard shows it.</summary>
public enum MetricType
{
    /// <summary>Last value (OTLP gauge).</summary>
    Gauge,

    /// <summary>Monotonic sum, shown as a rate per second.</summary>
    Counter,

    /// <summary>Non-monotonic sum, shown as values.</summary>
    UpDownCounter,

    /// <summary>Explicit-bucket histogram, shown as percentiles.</summary>
    Histogram,
}

/// <summary>OTLP aggregation temporality.</summary>
public enum MetricTemporality
{
    /// <summary>Each point holds everything since the series' start time.</summary>
    Cumulative,

    /// <summary>Each point holds only its own interval.</summary>
    Delta,
}
