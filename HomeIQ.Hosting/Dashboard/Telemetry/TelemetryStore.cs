namespace HomeIQ.Hosting.Dashboard.Telemetry;

/// <summary>
/// Bounded, thread-safe in-memory store of the logs, traces and metrics the dashboard shows. Capacities are read from
/// <see cref="TelemetryLimits"/> when the store is created; one lock per kind of telemetry, O(1) amortised per insert.
/// </summary>
public sealed partial class TelemetryStore
{
    private long _valuesTruncated;
    private long _attributesDropped;
    private long _requestsRejected;

    /// <summary>Creates an empty store with the given bounds.</summary>
    public TelemetryStore(TelemetryLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentOutOfRangeException.ThrowIfLessThan(limits.MaxLogs, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(limits.MaxTraces, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(limits.MaxSpansPerTrace, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(limits.MaxSpans, limits.MaxSpansPerTrace);
        ArgumentOutOfRangeException.ThrowIfLessThan(limits.MaxMetricSeries, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(limits.MaxPointsPerSeries, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(limits.MaxAttributeValueLength, 1);
        Limits = limits;
        _logs = new RingBuffer<LogEntry>(limits.MaxLogs);
    }

    /// <summary>The bounds this store was created with.</summary>
    public TelemetryLimits Limits { get; }

    /// <summary>
    /// Raised after a batch was stored, outside the store's locks, on the thread that stored it. Handlers must be quick;
    /// an exception from a handler is swallowed so that it cannot fail the OTLP request.
    /// </summary>
    public event Action<TelemetryKind>? Changed;

    /// <summary>Counts held and dropped, for the dashboard footer.</summary>
    public TelemetryStats GetStats()
    {
        var stats = new TelemetryStats
        {
            ValuesTruncated = Interlocked.Read(ref _valuesTruncated),
            AttributesDropped = Interlocked.Read(ref _attributesDropped),
            RequestsRejected = Interlocked.Read(ref _requestsRejected),
        };
        lock (_logLock)
        {
            stats = stats with { Logs = _logs.Count, LogsEvicted = _logsEvicted };
        }
        lock (_traceLock)
        {
            stats = stats with
            {
                Traces = _traces.Count,
                Spans = _spanCount,
                TracesEvicted = _tracesEvicted,
                SpansEvicted = _spansEvicted,
                SpansDropped = _spansDropped,
            };
        }
        lock (_metricLock)
        {
            stats = stats with
            {
                MetricSeries = _seriesCount,
                MetricPoints = _pointCount,
                MetricPointsDropped = _pointsDropped,
                MetricSeriesDropped = _seriesDropped,
            };
        }
        return stats;
    }

    /// <summary>Shared copies of repeated strings; the OTLP mappers intern through it.</summary>
    internal StringPool Strings { get; } = new();

    /// <summary>Counts an OTLP request the receiver refused.</summary>
    internal void RecordRejectedRequest() => Interlocked.Increment(ref _requestsRejected);

    private KeyValuePair<string, string>[] Bound(KeyValuePair<string, string>[] attributes)
    {
        if (attributes.Length > Limits.MaxAttributeCount)
        {
            Interlocked.Add(ref _attributesDropped, attributes.Length - Limits.MaxAttributeCount);
            attributes = attributes[..Limits.MaxAttributeCount];
        }
        var max = Limits.MaxAttributeValueLength;
        for (var i = 0; i < attributes.Length; i++)
        {
            var (key, value) = attributes[i];
            if (key.Length > max || value.Length > max)
            {
                attributes[i] = new(Cut(key, max), Cut(value, max));
            }
        }
        return attributes;
    }

    private string Cut(string text, int max)
    {
        if (text.Length <= max)
        {
            return text;
        }
        Interlocked.Increment(ref _valuesTruncated);
        return text[..max];
    }

    private void OnChanged(TelemetryKind kind)
    {
        if (Changed is not { } changed)
        {
            return;
        }
        foreach (var handler in changed.GetInvocationList().Cast<Action<TelemetryKind>>())
        {
            try
            {
                handler(kind);
            }
            catch (Exception)
            {
                // A dashboard view failing to refresh must not fail the sender's export.
            }
        }
    }
}
