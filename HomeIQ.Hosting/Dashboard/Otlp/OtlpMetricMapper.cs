using HomeIQ.Hosting.Dashboard.Otlp.Proto.Collector;
using HomeIQ.Hosting.Dashboard.Otlp.Proto.Metrics;
using HomeIQ.Hosting.Dashboard.Telemetry;

namespace HomeIQ.Hosting.Dashboard.Otlp;

/// <summary>
/// Maps an OTLP metric export to the store's metric data: gauges, sums and explicit-bucket histograms. Exponential
/// histograms and summaries are parsed but not kept.
/// </summary>
internal static class OtlpMetricMapper
{
    public static List<MetricData> Map(ExportMetricsServiceRequest request, StringPool pool)
    {
        var result = new List<MetricData>();
        foreach (var resourceMetrics in request.ResourceMetrics)
        {
            var (resource, instance) = OtlpValues.Identify(resourceMetrics.Resource, pool);
            foreach (var scopeMetrics in resourceMetrics.ScopeMetrics)
            {
                foreach (var metric in scopeMetrics.Metrics)
                {
                    if (Map(metric, resource, instance, pool) is { Points.Count: > 0 } data)
                    {
                        result.Add(data);
                    }
                }
            }
        }
        return result;
    }

    private static MetricData? Map(Metric metric, string resource, string instance, StringPool pool)
    {
        (MetricType Type, MetricTemporality Temporality, List<MetricDataPoint> Points)? mapped = metric.DataCase switch
        {
            Metric.DataOneofCase.Gauge => (MetricType.Gauge, MetricTemporality.Cumulative, Numbers(metric.Gauge.DataPoints, pool)),
            Metric.DataOneofCase.Sum => (metric.Sum.IsMonotonic ? MetricType.Counter : MetricType.UpDownCounter,
                Temporality(metric.Sum.AggregationTemporality), Numbers(metric.Sum.DataPoints, pool)),
            Metric.DataOneofCase.Histogram => (MetricType.Histogram, Temporality(metric.Histogram.AggregationTemporality), Histograms(metric.Histogram.DataPoints, pool)),
            _ => null,
        };
        if (mapped is not { } m)
        {
            return null;
        }
        return new MetricData
        {
            Resource = resource,
            Instance = instance,
            Name = metric.Name,
            Description = metric.Description,
            Unit = metric.Unit,
            Type = m.Type,
            Temporality = m.Temporality,
            Points = m.Points,
        };
    }

    private static MetricTemporality Temporality(AggregationTemporality temporality) =>
        temporality == AggregationTemporality.Delta ? MetricTemporality.Delta : MetricTemporality.Cumulative;

    private static List<MetricDataPoint> Numbers(IEnumerable<NumberDataPoint> points, StringPool pool) =>
        [.. points.Where(p => (p.Flags & (uint)DataPointFlags.NoRecordedValueMask) == 0).Select(p => new MetricDataPoint(
            OtlpValues.Attributes(p.Attributes, pool),
            new MetricPoint(p.StartTimeUnixNano, p.TimeUnixNano, p.ValueCase == NumberDataPoint.ValueOneofCase.AsInt ? p.AsInt : p.AsDouble)))];

    private static List<MetricDataPoint> Histograms(IEnumerable<HistogramDataPoint> points, StringPool pool) =>
        [.. points.Where(p => (p.Flags & (uint)DataPointFlags.NoRecordedValueMask) == 0).Select(p => new MetricDataPoint(
            OtlpValues.Attributes(p.Attributes, pool),
            new MetricPoint(p.StartTimeUnixNano, p.TimeUnixNano, p.HasSum ? p.Sum : 0, Histogram(p))))];

    private static HistogramValue Histogram(HistogramDataPoint point)
    {
        var bounds = point.ExplicitBounds.ToArray();
        var counts = point.BucketCounts.ToArray();
        if (counts.Length != bounds.Length + 1)
        {
            // Malformed or count-only point: keep the total in one bucket so percentiles fall back to min/max.
            bounds = [];
            counts = [point.Count];
        }
        return new HistogramValue(point.Count, point.HasSum ? point.Sum : 0, bounds, counts,
            point.HasMin ? point.Min : null, point.HasMax ? point.Max : null);
    }
}
