namespace HomeIQ.Energy.Domain;

/// <summary>What a stored series measures: a cumulative counter in kWh, or instantaneous power in W.</summary>
public enum SeriesKind
{
    Counter,
    Power,
}

/// <summary>One stored point of a series, in kWh (counter) or W (power).</summary>
public readonly record struct EnergyPoint(DateTime Ts, double Value);

/// <summary>The UTC hours [Start, End) whose totals a batch may change, and the points needed to recompute them.</summary>
public readonly record struct RecomputeWindow(DateTime Start, DateTime End);

/// <summary>
/// The whole arithmetic of Energy, pure so that the service's incremental recompute and an offline computation share it.
/// Hourly kWh of a series is a function of its set of points only: each interval between consecutive points contributes to the
/// hours it overlaps, in proportion to time (counter) or by the trapezoid of the linearly interpolated power (power).
/// </summary>
public static class EnergyCalculator
{
    public const string EnergyMetric = "energy";
    public const string PowerMetric = "power";

    /// <summary>
    /// The reading in the series' unit (kWh or W), or null when it is not an energy or power reading this service counts:
    /// other metrics, other units, negative or non-finite values.
    /// </summary>
    public static (SeriesKind Kind, double Value)? Normalize(string? metric, string? unit, double value)
    {
        if (!double.IsFinite(value) || value < 0 || metric is null)
        {
            return null;
        }
        if (metric.Equals(EnergyMetric, StringComparison.OrdinalIgnoreCase))
        {
            return unit switch
            {
                "kWh" or "kwh" => (SeriesKind.Counter, value),
                "Wh" or "wh" => (SeriesKind.Counter, value / 1000),
                _ => null,
            };
        }
        if (metric.Equals(PowerMetric, StringComparison.OrdinalIgnoreCase))
        {
            return unit switch
            {
                "W" or "w" => (SeriesKind.Power, value),
                "kW" or "kw" => (SeriesKind.Power, value * 1000),
                _ => null,
            };
        }
        return null;
    }

    public static string MetricOf(SeriesKind kind) => kind == SeriesKind.Counter ? EnergyMetric : PowerMetric;

    public static DateTime FloorHour(DateTime t) => new(t.Ticks - (t.Ticks % TimeSpan.TicksPerHour), DateTimeKind.Utc);

    /// <summary>
    /// Inserting points between <paramref name="previous"/> (the stored point before the earliest new one, if any) and
    /// <paramref name="next"/> (the stored point after the latest new one) only changes intervals inside [previous, next], so only
    /// the hours overlapping that span change.
    /// </summary>
    public static RecomputeWindow Window(DateTime earliestNew, DateTime latestNew, DateTime? previous, DateTime? next) =>
        new(FloorHour(previous ?? earliestNew), FloorHour(next ?? latestNew).AddHours(1));

    /// <summary>kWh per UTC hour of one series, from points sorted by time with distinct timestamps, kept to hours in <paramref name="window"/> when given.</summary>
    public static Dictionary<DateTime, double> Hourly(SeriesKind kind, IReadOnlyList<EnergyPoint> points, TimeSpan maxPowerGap, RecomputeWindow? window = null)
    {
        var hours = new Dictionary<DateTime, double>();
        for (var i = 1; i < points.Count; i++)
        {
            var (a, b) = (points[i - 1], points[i]);
            if (b.Ts <= a.Ts)
            {
                throw new ArgumentException("Points must be sorted by time with distinct timestamps.", nameof(points));
            }
            if (window is { } w && (b.Ts <= w.Start || a.Ts >= w.End))
            {
                continue;
            }
            if (kind == SeriesKind.Power && b.Ts - a.Ts > maxPowerGap)
            {
                continue; // nothing is assumed about a device that said nothing for that long
            }
            // A counter that went down was reset: what it shows now was consumed since the reset (as Home Assistant counts it).
            var delta = kind == SeriesKind.Counter ? (b.Value >= a.Value ? b.Value - a.Value : b.Value) : 0;
            var duration = (double)(b.Ts - a.Ts).Ticks;
            for (var hour = FloorHour(a.Ts); hour < b.Ts; hour = hour.AddHours(1))
            {
                if (window is { } win && (hour < win.Start || hour >= win.End))
                {
                    continue;
                }
                var start = hour > a.Ts ? hour : a.Ts;
                var end = hour.AddHours(1) < b.Ts ? hour.AddHours(1) : b.Ts;
                double kWh;
                if (kind == SeriesKind.Counter)
                {
                    kWh = delta * ((end - start).Ticks / duration);
                }
                else
                {
                    var p0 = a.Value + ((b.Value - a.Value) * ((start - a.Ts).Ticks / duration));
                    var p1 = a.Value + ((b.Value - a.Value) * ((end - a.Ts).Ticks / duration));
                    kWh = (p0 + p1) / 2 * (end - start).TotalHours / 1000;
                }
                if (kWh != 0)
                {
                    hours[hour] = hours.GetValueOrDefault(hour) + kWh;
                }
            }
        }
        return hours;
    }
}
