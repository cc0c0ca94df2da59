namespace HomeIQ.Hosting.Dashboard.Telemetry;

/// <summary>Traces: spans grouped by trace id, whole oldest traces (first seen) evicted first.</summary>
public sealed partial class TelemetryStore
{
    private readonly Lock _traceLock = new();
    private readonly Dictionary<string, TraceData> _traces = new(StringComparer.Ordinal);
    private readonly Queue<TraceData> _traceOrder = new();
    private long _spanCount;
    private long _tracesEvicted;
    private long _spansEvicted;
    private long _spansDropped;

    /// <summary>Stores spans; a full trace refuses more spans, and the oldest traces go when a cap is exceeded.</summary>
    public void AddSpans(IReadOnlyList<SpanEntry> spans)
    {
        ArgumentNullException.ThrowIfNull(spans);
        if (spans.Count == 0)
        {
            return;
        }
        var bounded = new SpanEntry[spans.Count];
        for (var i = 0; i < bounded.Length; i++)
        {
            bounded[i] = BoundSpan(spans[i]);
        }
        lock (_traceLock)
        {
            foreach (var span in bounded)
            {
                AddSpanLocked(span);
            }
        }
        OnChanged(TelemetryKind.Traces);
    }

    /// <summary>Summaries of the traces touching <paramref name="resource"/> (all when null), newest start first.</summary>
    public IReadOnlyList<TraceSummary> GetTraces(string? resource = null, int limit = 100)
    {
        var result = new List<TraceSummary>();
        lock (_traceLock)
        {
            foreach (var trace in _traces.Values)
            {
                if (string.IsNullOrEmpty(resource) || trace.Resources.Contains(resource, StringComparer.OrdinalIgnoreCase))
                {
                    result.Add(new TraceSummary(trace.TraceId, trace.RootName, trace.Start, trace.End, trace.Spans.Count, [.. trace.Resources], trace.HasError));
                }
            }
        }
        result.Sort((a, b) => b.StartUnixNano.CompareTo(a.StartUnixNano));
        return result.Count > limit ? result[..limit] : result;
    }

    /// <summary>A copy of the spans of one trace, or null when the store does not hold it.</summary>
    public IReadOnlyList<SpanEntry>? GetTrace(string traceId)
    {
        lock (_traceLock)
        {
            return _traces.TryGetValue(traceId.ToLowerInvariant(), out var trace) ? trace.Spans.ToArray() : null;
        }
    }

    private SpanEntry BoundSpan(SpanEntry span)
    {
        var attributes = Bound(span.Attributes);
        var name = Cut(span.Name, Limits.MaxMessageLength);
        var events = span.Events;
        if (events.Length > Limits.MaxEventsPerSpan)
        {
            Interlocked.Add(ref _attributesDropped, events.Length - Limits.MaxEventsPerSpan);
            events = events[..Limits.MaxEventsPerSpan];
        }
        for (var i = 0; i < events.Length; i++)
        {
            var bound = Bound(events[i].Attributes);
            if (!ReferenceEquals(bound, events[i].Attributes) || events[i].Name.Length > Limits.MaxAttributeValueLength)
            {
                events = ReferenceEquals(events, span.Events) ? [.. events] : events;
                events[i] = new SpanEventEntry(Cut(events[i].Name, Limits.MaxAttributeValueLength), events[i].TimeUnixNano, bound);
            }
        }
        return ReferenceEquals(attributes, span.Attributes) && ReferenceEquals(name, span.Name) && ReferenceEquals(events, span.Events)
            ? span
            : span with { Attributes = attributes, Name = name, Events = events };
    }

    private void AddSpanLocked(SpanEntry span)
    {
        if (!_traces.TryGetValue(span.TraceId, out var trace))
        {
            trace = new TraceData(span.TraceId);
            _traces.Add(span.TraceId, trace);
            _traceOrder.Enqueue(trace);
        }
        if (trace.Spans.Count >= Limits.MaxSpansPerTrace)
        {
            _spansDropped++;
            return;
        }
        trace.Add(span);
        _spanCount++;
        while ((_traces.Count > Limits.MaxTraces || _spanCount > Limits.MaxSpans) && _traceOrder.Count > 1)
        {
            var oldest = _traceOrder.Dequeue();
            _traces.Remove(oldest.TraceId);
            _tracesEvicted++;
            _spansEvicted += oldest.Spans.Count;
            _spanCount -= oldest.Spans.Count;
        }
    }

    private sealed class TraceData(string traceId)
    {
        public string TraceId { get; } = traceId;

        public List<SpanEntry> Spans { get; } = [];

        public List<string> Resources { get; } = [];

        public ulong Start { get; private set; } = ulong.MaxValue;

        public ulong End { get; private set; }

        public string RootName { get; private set; } = "";

        public bool HasError { get; private set; }

        private bool _hasRoot;

        public void Add(SpanEntry span)
        {
            Spans.Add(span);
            if (!Resources.Contains(span.Resource))
            {
                Resources.Add(span.Resource);
            }
            HasError |= span.Status == SpanStatus.Error;
            var isRoot = span.ParentSpanId.Length == 0;
            if ((isRoot && !_hasRoot) || (!_hasRoot && span.StartUnixNano < Start))
            {
                RootName = span.Name;
                _hasRoot = isRoot;
            }
            Start = Math.Min(Start, span.StartUnixNano);
            End = Math.Max(End, Math.Max(span.EndUnixNano, span.StartUnixNano));
        }
    }
}

/// <summary>One trace in the trace list: times in Unix nanoseconds.</summary>
public sealed record TraceSummary(string TraceId, string Name, ulong StartUnixNano, ulong EndUnixNano, int SpanCount, string[] Resources, bool HasError);
