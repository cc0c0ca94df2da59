namespace HomeIQ.Hosting.Dashboard.Telemetry;

/// <summary>Builds the query API's views from the store; usable directly by dashboard pages without HTTP.</summary>
public static class TelemetryQueries
{
    /// <summary>Log records matching the query, newest first.</summary>
    public static IReadOnlyList<LogView> Logs(this TelemetryStore store, LogQuery query) =>
        [.. store.QueryLogs(query).Select(l => new LogView(ToTime(l.TimeUnixNano), l.Resource, l.Instance, l.Level.ToString(), l.Category,
            l.Message, l.TraceId, l.SpanId, ToDictionary(l.Attributes)))];

    /// <summary>Traces touching the resource (all when null), newest start first.</summary>
    public static IReadOnlyList<TraceListItem> Traces(this TelemetryStore store, string? resource, int limit) =>
        [.. store.GetTraces(resource, limit).Select(t => new TraceListItem(t.TraceId, t.Name, ToTime(t.StartUnixNano),
            Millis(t.StartUnixNano, t.EndUnixNano), t.SpanCount, t.Resources, t.HasError))];

    /// <summary>One trace as a waterfall, or null when the store does not hold it.</summary>
    public static TraceDetail? Trace(this TelemetryStore store, string traceId)
    {
        if (store.GetTrace(traceId) is not { Count: > 0 } spans)
        {
            return null;
        }
        var start = spans.Min(s => s.StartUnixNano);
        var end = spans.Max(s => Math.Max(s.StartUnixNano, s.EndUnixNano));
        var views = TraceOrder.DepthFirst(spans).Select(x => new SpanView(x.Span.SpanId, x.Span.ParentSpanId, x.Span.Name,
            x.Span.Kind.ToString(), x.Span.Resource, x.Span.Instance, ToTime(x.Span.StartUnixNano), Millis(start, x.Span.StartUnixNano),
            Millis(x.Span.StartUnixNano, x.Span.EndUnixNano), x.Span.Status.ToString(), x.Span.StatusMessage, x.Depth, ToDictionary(x.Span.Attributes),
            [.. x.Span.Events.Select(e => new SpanEventView(e.Name, Millis(start, e.TimeUnixNano), ToDictionary(e.Attributes)))]));
        return new TraceDetail(spans[0].TraceId, ToTime(start), Millis(start, end), [.. views]);
    }

    /// <summary>Instruments of the resource (all when null).</summary>
    public static IReadOnlyList<MetricListItem> Metrics(this TelemetryStore store, string? resource) =>
        [.. store.GetMetrics(resource).Select(m => new MetricListItem(m.Resource, m.Name, m.Description, m.Unit, TypeName(m.Type), m.SeriesCount))];

    /// <summary>One instrument's series as chart points, or null when the store does not hold it.</summary>
    public static MetricDetail? Metric(this TelemetryStore store, string resource, string name)
    {
        if (store.GetMetric(resource, name) is not { } metric)
        {
            return null;
        }
        var info = metric.Info;
        var series = metric.Series.Select(s => new MetricSeriesView(s.Instance, ToDictionary(s.Attributes), Points(info, s.Points)));
        return new MetricDetail(info.Resource, info.Name, info.Description, info.Unit, TypeName(info.Type), [.. series]);
    }

    /// <summary>The API's name of a metric type.</summary>
    public static string TypeName(MetricType type) => type switch
    {
        MetricType.Counter => "counter",
        MetricType.UpDownCounter => "updowncounter",
        MetricType.Histogram => "histogram",
        _ => "gauge",
    };

    /// <summary>A Unix-nanosecond time as a UTC <see cref="DateTimeOffset"/> (100 ns precision).</summary>
    public static DateTimeOffset ToTime(ulong unixNano) => DateTimeOffset.UnixEpoch.AddTicks((long)Math.Min(unixNano / 100, (ulong)(DateTimeOffset.MaxValue.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks)));

    private static IReadOnlyList<MetricPointView> Points(MetricInfo info, MetricPoint[] points) => info.Type switch
    {
        MetricType.Counter => [.. MetricMath.CounterRates(points, info.Temporality).Select(r => new MetricPointView(ToTime(r.TimeUnixNano), r.Rate))],
        MetricType.Histogram => [.. MetricMath.Percentiles(points, info.Temporality)
            .Select(p => new MetricPointView(ToTime(p.TimeUnixNano), null, p.P50, p.P90, p.P99, p.Count))],
        _ => [.. points.Select(p => new MetricPointView(ToTime(p.TimeUnixNano), p.Value))],
    };

    private static double Millis(ulong from, ulong to) => to > from ? (to - from) / 1e6 : 0;

    private static Dictionary<string, string> ToDictionary(KeyValuePair<string, string>[] attributes)
    {
        var dictionary = new Dictionary<string, string>(attributes.Length, StringComparer.Ordinal);
        foreach (var (key, value) in attributes)
        {
            dictionary[key] = value;
        }
        return dictionary;
    }
}
