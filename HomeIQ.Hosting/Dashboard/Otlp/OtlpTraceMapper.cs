using HomeIQ.Hosting.Dashboard.Otlp.Proto.Collector;
using HomeIQ.Hosting.Dashboard.Telemetry;
using OtlpSpan = HomeIQ.Hosting.Dashboard.Otlp.Proto.Trace.Span;
using OtlpStatus = HomeIQ.Hosting.Dashboard.Otlp.Proto.Trace.Status;

namespace HomeIQ.Hosting.Dashboard.Otlp;

/// <summary>Maps an OTLP trace export to the store's spans.</summary>
internal static class OtlpTraceMapper
{
    public static List<SpanEntry> Map(ExportTraceServiceRequest request, StringPool pool)
    {
        var spans = new List<SpanEntry>();
        foreach (var resourceSpans in request.ResourceSpans)
        {
            var (resource, instance) = OtlpValues.Identify(resourceSpans.Resource, pool);
            foreach (var scopeSpans in resourceSpans.ScopeSpans)
            {
                foreach (var span in scopeSpans.Spans)
                {
                    if (span.TraceId.Length == 0 || span.SpanId.Length == 0)
                    {
                        continue;
                    }
                    spans.Add(new SpanEntry
                    {
                        TraceId = OtlpValues.Hex(span.TraceId),
                        SpanId = OtlpValues.Hex(span.SpanId),
                        ParentSpanId = OtlpValues.Hex(span.ParentSpanId),
                        Name = pool.Intern(span.Name),
                        Kind = span.Kind is >= OtlpSpan.Types.SpanKind.Unspecified and <= OtlpSpan.Types.SpanKind.Consumer ? (SpanKind)span.Kind : SpanKind.Unspecified,
                        Resource = resource,
                        Instance = instance,
                        StartUnixNano = span.StartTimeUnixNano,
                        EndUnixNano = span.EndTimeUnixNano,
                        Status = span.Status?.Code switch
                        {
                            OtlpStatus.Types.StatusCode.Ok => SpanStatus.Ok,
                            OtlpStatus.Types.StatusCode.Error => SpanStatus.Error,
                            _ => SpanStatus.Unset,
                        },
                        StatusMessage = span.Status?.Message ?? "",
                        Attributes = OtlpValues.Attributes(span.Attributes, pool),
                        Events = [.. span.Events.Select(e => new SpanEventEntry(pool.Intern(e.Name), e.TimeUnixNano, OtlpValues.Attributes(e.Attributes, pool)))],
                    });
                }
            }
        }
        return spans;
    }
}
