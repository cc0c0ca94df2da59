using System.Text.Json.Serialization;

namespace HomeIQ.Hosting.Dashboard.Telemetry;

/// <summary>A log record as the query API returns it.</summary>
public sealed record LogView(DateTimeOffset Timestamp, string Resource, string Instance, string Level, string Category, string Message,
    string TraceId, string SpanId, IReadOnlyDictionary<string, string> Attributes);

/// <summary>A trace in the trace list.</summary>
public sealed record TraceListItem(string TraceId, string Name, DateTimeOffset Start, double DurationMs, int SpanCount, IReadOnlyList<string> Resources, bool HasError);

/// <summary>One trace with its spans, parents before children (depth first by start time).</summary>
public sealed record TraceDetail(string TraceId, DateTimeOffset Start, double DurationMs, IReadOnlyList<SpanView> Spans);

/// <summary>A span in a trace waterfall; offsets are from the trace start.</summary>
public sealed record SpanView(string SpanId, string ParentSpanId, string Name, string Kind, string Resource, string Instance, DateTimeOffset Start,
    double OffsetMs, double DurationMs, string Status, string StatusMessage, int Depth, IReadOnlyDictionary<string, string> Attributes, IReadOnlyList<SpanEventView> Events);

/// <summary>An event on a span; the offset is from the trace start.</summary>
public sealed record SpanEventView(string Name, double OffsetMs, IReadOnlyDictionary<string, string> Attributes);

/// <summary>An instrument in the metric list; <see cref="Type"/> is counter, updowncounter, gauge or histogram.</summary>
public sealed record MetricListItem(string Resource, string Name, string Description, string Unit, string Type, int Series);

/// <summary>An instrument with its series ready to chart.</summary>
public sealed record MetricDetail(string Resource, string Name, string Description, string Unit, string Type, IReadOnlyList<MetricSeriesView> Series);

/// <summary>One series: the sender's instance, the attribute set and its chart points, oldest first.</summary>
public sealed record MetricSeriesView(string Instance, IReadOnlyDictionary<string, string> Attributes, IReadOnlyList<MetricPointView> Points);

/// <summary>
/// A chart point: <see cref="Value"/> for counters (rate per second), gauges and up-down counters; percentiles and
/// count for histograms. Members that do not apply are left out of the JSON.
/// </summary>
public sealed record MetricPointView(
    DateTimeOffset Time,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? Value = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? P50 = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? P90 = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? P99 = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ulong? Count = null);
