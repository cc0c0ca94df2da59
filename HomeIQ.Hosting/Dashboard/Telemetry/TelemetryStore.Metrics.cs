using System.Text;

namespace HomeIQ.Hosting.Dashboard.Telemetry;

/// <summary>Metrics: series keyed by resource, instance, instrument and attribute set, each a ring of points.</summary>
public sealed partial class TelemetryStore
{
    private readonly Lock _metricLock = new();
    private readonly Dictionary<(string Resource, string Name), Instrument> _instruments = [];
    private long _seriesCount;
    private long _pointCount;
    private long _pointsDropped;
    private long _seriesDropped;

    /// <summary>Stores metric points; points of a new series beyond the series cap are dropped and counted.</summary>
    public void AddMetrics(IReadOnlyList<MetricData> metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        if (metrics.Count == 0)
        {
            return;
        }
        var keyed = new List<(MetricData Data, string Key, MetricDataPoint Point)>();
        foreach (var data in metrics)
        {
            foreach (var point in data.Points)
            {
                var attributes = Bound(point.Attributes);
                Array.Sort(attributes, (a, b) => string.CompareOrdinal(a.Key, b.Key));
                keyed.Add((data, SeriesKey(data.Instance, attributes), point with { Attributes = attributes }));
            }
        }
        lock (_metricLock)
        {
            foreach (var (data, key, point) in keyed)
            {
                AddPointLocked(data, key, point);
            }
        }
        OnChanged(TelemetryKind.Metrics);
    }

    /// <summary>The instruments held for <paramref name="resource"/> (all when null), by resource and name.</summary>
    public IReadOnlyList<MetricInfo> GetMetrics(string? resource = null)
    {
        lock (_metricLock)
        {
            return [.. _instruments.Values
                .Where(i => string.IsNullOrEmpty(resource) || string.Equals(i.Resource, resource, StringComparison.OrdinalIgnoreCase))
                .OrderBy(i => i.Resource, StringComparer.Ordinal).ThenBy(i => i.Name, StringComparer.Ordinal)
                .Select(i => new MetricInfo(i.Resource, i.Name, i.Description, i.Unit, i.Type, i.Temporality, i.Series.Count))];
        }
    }

    /// <summary>A copy of every series of one instrument, or null when the store does not hold it.</summary>
    public MetricSnapshot? GetMetric(string resource, string name)
    {
        lock (_metricLock)
        {
            var instrument = _instruments.Values.FirstOrDefault(i =>
                string.Equals(i.Resource, resource, StringComparison.OrdinalIgnoreCase) && string.Equals(i.Name, name, StringComparison.Ordinal));
            if (instrument is null)
            {
                return null;
            }
            var info = new MetricInfo(instrument.Resource, instrument.Name, instrument.Description, instrument.Unit, instrument.Type, instrument.Temporality, instrument.Series.Count);
            return new MetricSnapshot(info, [.. instrument.Series.Values.Select(s => new MetricSeriesSnapshot(s.Instance, s.Attributes, s.Points.ToArray()))]);
        }
    }

    private static string SeriesKey(string instance, KeyValuePair<string, string>[] attributes)
    {
        var key = new StringBuilder(instance);
        foreach (var (name, value) in attributes)
        {
            key.Append('\0').Append(name).Append('\u0001').Append(value);
        }
        return key.ToString();
    }

    private void AddPointLocked(MetricData data, string key, MetricDataPoint point)
    {
        if (!_instruments.TryGetValue((data.Resource, data.Name), out var instrument))
        {
            if (_seriesCount >= Limits.MaxMetricSeries)
            {
                _seriesDropped++;
                _pointsDropped++;
                return;
            }
            instrument = new Instrument(data);
            _instruments.Add((data.Resource, data.Name), instrument);
        }
        if (!instrument.Series.TryGetValue(key, out var series))
        {
            if (_seriesCount >= Limits.MaxMetricSeries)
            {
                _seriesDropped++;
                _pointsDropped++;
                return;
            }
            series = new Series(data.Instance, point.Attributes, Limits.MaxPointsPerSeries);
            instrument.Series.Add(key, series);
            _seriesCount++;
        }
        var value = point.Point;
        if (value.Histogram is { } histogram && series.Points.Count > 0
            && series.Points[series.Points.Count - 1].Histogram is { } previous
            && !ReferenceEquals(previous.Bounds, histogram.Bounds) && previous.Bounds.AsSpan().SequenceEqual(histogram.Bounds))
        {
            value = value with { Histogram = histogram with { Bounds = previous.Bounds } };
        }
        if (!series.Points.Add(value, out _))
        {
            _pointCount++;
        }
    }

    private sealed class Instrument(MetricData data)
    {
        public string Resource { get; } = data.Resource;

        public string Name { get; } = data.Name;

        public string Description { get; } = data.Description;

        public string Unit { get; } = data.Unit;

        public MetricType Type { get; } = data.Type;

        public MetricTemporality Temporality { get; } = data.Temporality;

        public Dictionary<string, Series> Series { get; } = new(StringComparer.Ordinal);
    }

    private sealed class Series(string instance, KeyValuePair<string, string>[] attributes, int capacity)
    {
        public string Instance { get; } = instance;

        public KeyValuePair<string, string>[] Attributes { get; } = attributes;

        public RingBuffer<MetricPoint> Points { get; } = new(capacity);
    }
}

/// <summary>An instrument held by the store and how many series it has.</summary>
public sealed record MetricInfo(string Resource, string Name, string Description, string Unit, MetricType Type, MetricTemporality Temporality, int SeriesCount);

/// <summary>A copy of one instrument's series.</summary>
public sealed record MetricSnapshot(MetricInfo Info, IReadOnlyList<MetricSeriesSnapshot> Series);

/// <summary>A copy of one series: the sender's instance, its attribute set and its points, oldest first.</summary>
public sealed record MetricSeriesSnapshot(string Instance, KeyValuePair<string, string>[] Attributes, MetricPoint[] Points);
