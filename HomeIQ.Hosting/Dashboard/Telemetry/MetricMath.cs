namespace HomeIQ.Hosting.Dashboard.Telemetry;

/// <summary>Turns stored metric points into what the dashboard charts: counter rates and histogram percentiles.</summary>
public static class MetricMath
{
    private const double NanosPerSecond = 1e9;

    /// <summary>
    /// Rates per second of a monotonic sum. Cumulative: increase over time between consecutive points; a value that
    /// went down (or a later start time) is a reset, whose increase is the new value since its start time. Delta: each
    /// point's value over its own interval. Points without a positive interval are skipped.
    /// </summary>
    public static IReadOnlyList<(ulong TimeUnixNano, double Rate)> CounterRates(IReadOnlyList<MetricPoint> points, MetricTemporality temporality)
    {
        var rates = new List<(ulong, double)>(points.Count);
        for (var i = 0; i < points.Count; i++)
        {
            var point = points[i];
            if (temporality == MetricTemporality.Delta || i == 0)
            {
                if (i == 0 && temporality == MetricTemporality.Cumulative && point.StartUnixNano == 0)
                {
                    continue;
                }
                AddRate(rates, point.TimeUnixNano, point.Value, point.StartUnixNano, point.TimeUnixNano);
                continue;
            }
            var previous = points[i - 1];
            var reset = point.Value < previous.Value || point.StartUnixNano > previous.TimeUnixNano;
            if (reset)
            {
                var from = point.StartUnixNano > previous.TimeUnixNano ? point.StartUnixNano : previous.TimeUnixNano;
                AddRate(rates, point.TimeUnixNano, point.Value, from, point.TimeUnixNano);
            }
            else
            {
                AddRate(rates, point.TimeUnixNano, point.Value - previous.Value, previous.TimeUnixNano, point.TimeUnixNano);
            }
        }
        return rates;
    }

    /// <summary>
    /// Percentiles per histogram point. Cumulative points are differenced with the previous point (the whole point
    /// after a reset or a change of bounds); delta points are used as they are.
    /// </summary>
    public static IReadOnlyList<HistogramPercentiles> Percentiles(IReadOnlyList<MetricPoint> points, MetricTemporality temporality)
    {
        var result = new List<HistogramPercentiles>(points.Count);
        for (var i = 0; i < points.Count; i++)
        {
            if (points[i].Histogram is not { } current)
            {
                continue;
            }
            var counts = current.BucketCounts;
            if (temporality == MetricTemporality.Cumulative && i > 0 && points[i - 1].Histogram is { } previous
                && previous.Count <= current.Count && previous.BucketCounts.Length == counts.Length
                && previous.Bounds.AsSpan().SequenceEqual(current.Bounds) && points[i].StartUnixNano <= points[i - 1].TimeUnixNano)
            {
                counts = new ulong[counts.Length];
                for (var b = 0; b < counts.Length; b++)
                {
                    counts[b] = current.BucketCounts[b] >= previous.BucketCounts[b] ? current.BucketCounts[b] - previous.BucketCounts[b] : 0;
                }
            }
            var window = current with { BucketCounts = counts };
            result.Add(new HistogramPercentiles(points[i].TimeUnixNano, Percentile(window, 0.50), Percentile(window, 0.90), Percentile(window, 0.99), Total(counts)));
        }
        return result;
    }

    /// <summary>
    /// The <paramref name="quantile"/> (0..1) of a histogram by linear interpolation inside the bucket holding that
    /// rank, clamped to the point's min and max when known; null when the histogram is empty. The first bucket starts at
    /// min (else 0, or its upper bound when that is negative); the overflow bucket ends at max (else its lower bound).
    /// </summary>
    public static double? Percentile(HistogramValue histogram, double quantile)
    {
        var counts = histogram.BucketCounts;
        var bounds = histogram.Bounds;
        var total = Total(counts);
        if (total == 0)
        {
            return null;
        }
        var rank = Math.Clamp(quantile, 0, 1) * total;
        ulong below = 0;
        for (var b = 0; b < counts.Length; b++)
        {
            if (counts[b] == 0 || below + counts[b] < rank)
            {
                below += counts[b];
                continue;
            }
            var lower = b == 0 ? histogram.Min ?? (bounds.Length > 0 ? Math.Min(0, bounds[0]) : 0) : bounds[b - 1];
            var upper = b < bounds.Length ? bounds[b] : histogram.Max ?? lower;
            var value = lower + ((upper - lower) * (rank - below) / counts[b]);
            return Math.Clamp(value, histogram.Min ?? double.MinValue, Math.Max(histogram.Max ?? double.MaxValue, histogram.Min ?? double.MinValue));
        }
        return histogram.Max ?? (bounds.Length > 0 ? bounds[^1] : null);
    }

    private static ulong Total(ulong[] counts)
    {
        ulong total = 0;
        foreach (var count in counts)
        {
            total += count;
        }
        return total;
    }

    private static void AddRate(List<(ulong, double)> rates, ulong time, double increase, ulong from, ulong to)
    {
        if (to > from)
        {
            rates.Add((time, increase / ((to - from) / NanosPerSecond)));
        }
    }
}

/// <summary>Percentiles of one histogram interval; null percentiles when nothing was recorded in it.</summary>
public sealed record HistogramPercentiles(ulong TimeUnixNano, double? P50, double? P90, double? P99, ulong Count);
