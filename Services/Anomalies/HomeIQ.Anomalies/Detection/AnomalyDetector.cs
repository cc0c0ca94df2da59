using System.Globalization;
using HomeIQ.Contracts;

namespace HomeIQ.Anomalies.Detection;

/// <summary>A raised or resolved anomaly of one series, at the timestamp of the reading (or sweep) that decided it.</summary>
internal readonly record struct Finding(AnomalyKind Kind, bool Resolved, long Ticks, AnomalySeverity Severity = AnomalySeverity.Low, string Description = "",
    double? Value = null, double? ExpectedLow = null, double? ExpectedHigh = null);

/// <summary>
/// Streaming detection for one device metric at a time, over explicit reading timestamps (no clock of its own, so the service
/// and the benchmark's simulated weeks run the same code). Per series it learns a level (EWMA) and a scale (mean absolute
/// residual, learned from normal readings only, so anomalies do not teach it), the inter-arrival interval, and the longest
/// stillness. A reading further than <see cref="DetectorOptions.Threshold"/> scales from the level starts an excursion: ended
/// within <see cref="DetectorOptions.ShiftReadings"/> readings it is an outlier, sustained it is a level shift and the level
/// moves there. Readings not newer than the last one are ignored, so a resend or a late reading is never learned or raised twice.
/// </summary>
internal sealed class AnomalyDetector(DetectorOptions options)
{
    // The limits of the metric and unit of the previous reading: readings of one series come together, and a batch's strings are
    // shared, so most readings skip the lookup. One immutable entry, replaced whole, so concurrent callers never see half of one.
    private LimitsEntry? _lastLimits;

    private sealed record LimitsEntry(string Metric, string Unit, PlausibleLimits? Limits);

    public DetectorOptions Options { get; } = options;

    /// <summary>Learns and judges one reading; appends what it raised or resolved. Returns false when the reading was ignored as not newer.</summary>
    public bool Observe(SeriesState s, string metric, string unit, double value, long ticks, List<Finding> findings)
    {
        if (!double.IsFinite(value) || (s.Count > 0 && ticks <= s.LastTicks))
        {
            return false;
        }
        if (s.Count == 0)
        {
            Start(s, value, ticks);
            return true;
        }
        var gapSeconds = (ticks - s.LastTicks) / (double)TimeSpan.TicksPerSecond;
        var afterSilence = s.IntervalCount >= Options.IntervalWarmup && gapSeconds > OfflineAfterSeconds(s);
        if (!afterSilence)
        {
            // Readings under half a second apart are one report (a burst, or several values of one measurement), not a cadence.
            if (gapSeconds >= 0.5)
            {
                LearnInterval(s, gapSeconds, Options.IntervalWarmup);
            }
        }
        else
        {
            // The world moved on while the sensor was silent: start the level again instead of judging the first reading against it.
            s.Relearn = true;
            s.ExcursionCount = 0;
            if (!s.IsOpen(AnomalyKind.Stuck))
            {
                s.RunStartTicks = ticks; // how still it was while silent is unknown
            }
        }
        var step = Math.Abs(value - s.LastValue);
        if (step > 0 && (s.Quantum == 0 || step < s.Quantum))
        {
            s.Quantum = step;
        }
        JudgeStillness(s, value, ticks, findings);
        if (!JudgePlausible(s, metric, unit, value, ticks, gapSeconds, findings))
        {
            s.LastTicks = ticks;
            return true; // an impossible value teaches nothing
        }
        JudgeLevel(s, value, ticks, findings);
        s.LastTicks = ticks;
        s.LastValue = value;
        s.Count++;
        return true;
    }

    /// <summary>When the series is overdue (offline) if nothing arrives; null until its interval is learned.</summary>
    public long? OfflineDueTicks(SeriesState s) =>
        s.Count > 0 && s.IntervalCount >= Options.IntervalWarmup ? s.LastTicks + (long)(OfflineAfterSeconds(s) * TimeSpan.TicksPerSecond) : null;

    /// <summary>The silence after which the series is offline: a multiple of its own interval, widened for a jittery one.</summary>
    public double OfflineAfterSeconds(SeriesState s) =>
        Math.Max(Math.Max(Options.OfflineFactor * s.Interval, s.Interval + 6 * s.IntervalDev), Options.MinOfflineAfter.TotalSeconds);

    /// <summary>The Offline finding the sweep raises for an overdue series (<paramref name="nowTicks"/> on the wall or simulated clock).</summary>
    public static Finding Offline(SeriesState s, double expectedSeconds, long nowTicks)
    {
        var silent = (nowTicks - s.LastTicks) / (double)TimeSpan.TicksPerSecond;
        return new Finding(AnomalyKind.Offline, false, nowTicks, silent > 10 * s.Interval ? AnomalySeverity.High : AnomalySeverity.Medium,
            string.Create(CultureInfo.InvariantCulture, $"No reading for {silent:0.#} s; it usually reports every {s.Interval:0.#} s."),
            null, 0, expectedSeconds);
    }

    private static void Start(SeriesState s, double value, long ticks)
    {
        s.Count = 1;
        s.LastTicks = ticks;
        s.LastValue = value;
        s.Level = value;
        s.RunStartTicks = ticks;
    }

    private static void LearnInterval(SeriesState s, double gap, int warmup)
    {
        if (s.IntervalCount == 0)
        {
            s.Interval = gap;
        }
        else
        {
            // Early on a plain mean, later an EWMA; a gap is clipped so one long pause does not stretch the interval.
            var alpha = Math.Max(1.0 / (s.IntervalCount + 1), 0.05);
            var clipped = s.IntervalCount < warmup ? gap : Math.Min(gap, 4 * s.Interval);
            var deviation = Math.Abs(clipped - s.Interval);
            s.Interval += alpha * (clipped - s.Interval);
            s.IntervalDev += alpha * (deviation - s.IntervalDev);
        }
        s.IntervalCount++;
    }

    private void JudgeStillness(SeriesState s, double value, long ticks, List<Finding> findings)
    {
        if (value != s.LastValue)
        {
            if (s.IsOpen(AnomalyKind.Stuck))
            {
                s.SetOpen(AnomalyKind.Stuck, false);
                s.Relearn = true;
                findings.Add(new Finding(AnomalyKind.Stuck, true, ticks));
            }
            else
            {
                // The longest normal stillness, slowly forgotten; a run that was raised as stuck is not normal and not learned.
                var run = (s.LastTicks - s.RunStartTicks) / (double)TimeSpan.TicksPerSecond;
                s.MaxRunSeconds = Math.Max(s.MaxRunSeconds * 0.999, run);
            }
            s.Changes++;
            s.RunStartTicks = ticks;
            return;
        }
        var still = (ticks - s.RunStartTicks) / (double)TimeSpan.TicksPerSecond;
        var limit = Math.Max(Options.StuckFactor * s.MaxRunSeconds, Options.StuckMinReadings * s.Interval);
        if (s.Changes >= Options.StuckMinChanges && s.Count >= Options.Warmup && !s.IsOpen(AnomalyKind.Stuck) && still > limit && Raise(s, AnomalyKind.Stuck, ticks))
        {
            findings.Add(new Finding(AnomalyKind.Stuck, false, ticks, still > 3 * limit ? AnomalySeverity.High : AnomalySeverity.Medium,
                string.Create(CultureInfo.InvariantCulture, $"The value {value} has not changed for {still:0} s; it normally changes within {limit:0} s."),
                value, 0, limit));
        }
    }

    private bool JudgePlausible(SeriesState s, string metric, string unit, double value, long ticks, double gapSeconds, List<Finding> findings)
    {
        if (LimitsFor(metric, unit) is not { } limits)
        {
            return true;
        }
        var step = Math.Abs(value - s.LastValue);
        var outside = value < limits.Min || value > limits.Max;
        var tooFast = !s.Relearn && step >= limits.MinStep && gapSeconds > 0 && step / gapSeconds > limits.MaxRatePerSecond;
        if (!outside && !tooFast)
        {
            return true;
        }
        s.NormalStreak = 0;
        if (!s.IsOpen(AnomalyKind.Implausible) && Raise(s, AnomalyKind.Implausible, ticks))
        {
            var why = outside
                ? string.Create(CultureInfo.InvariantCulture, $"{value} {unit} is outside what a {metric} sensor can measure ({limits.Min} to {limits.Max}).")
                : string.Create(CultureInfo.InvariantCulture, $"{metric} changed by {step:0.##} {unit} in {gapSeconds:0.#} s, faster than physically possible.");
            findings.Add(new Finding(AnomalyKind.Implausible, false, ticks, AnomalySeverity.High, why, value, limits.Min, limits.Max));
        }
        return false;
    }

    private PlausibleLimits? LimitsFor(string metric, string unit)
    {
        var last = _lastLimits;
        if (last is null || !string.Equals(last.Metric, metric, StringComparison.Ordinal) || !string.Equals(last.Unit, unit, StringComparison.Ordinal))
        {
            _lastLimits = last = new LimitsEntry(metric, unit, PlausibleLimits.For(metric, unit));
        }
        return last.Limits;
    }

    private void JudgeLevel(SeriesState s, double value, long ticks, List<Finding> findings)
    {
        if (s.Relearn)
        {
            s.Relearn = false;
            s.Level = value;
            s.Trend = 0;
            s.ExcursionCount = 0;
            return;
        }
        if (s.IsOpen(AnomalyKind.Stuck))
        {
            return; // a frozen value says nothing about the signal: neither judge it nor learn from it
        }
        var dt = (ticks - s.LastTicks) / (double)TimeSpan.TicksPerSecond;
        var forecast = s.Level + (s.Trend * dt);
        var residual = value - forecast;
        var scale = Math.Max(s.Scale, Math.Max(s.Quantum, 1e-9 + 1e-6 * Math.Abs(s.Level)));
        var limit = Options.Threshold * scale;
        if (s.Count < Options.Warmup)
        {
            Learn(s, value, forecast, residual, dt);
            return;
        }
        var sign = Math.Sign(residual);
        if (Math.Abs(residual) > limit)
        {
            if (s.ExcursionCount > 0 && sign != s.ExcursionSign)
            {
                EndExcursionAsOutlier(s, ticks, scale, findings);
            }
            if (s.ExcursionCount == 0)
            {
                s.ExcursionSign = sign;
                s.ExcursionStartTicks = ticks;
                s.ExcursionSum = 0;
                s.ExcursionPeakResidual = 0;
            }
            s.ExcursionCount++;
            s.ExcursionSum += value;
            s.NormalStreak = 0;
            if (Math.Abs(residual) > Math.Abs(s.ExcursionPeakResidual))
            {
                s.ExcursionPeakResidual = residual;
                s.ExcursionPeak = value;
            }
            if (s.ExcursionCount >= Options.ShiftReadings)
            {
                var from = forecast;
                s.Level = s.ExcursionSum / s.ExcursionCount;
                s.Trend = 0;
                s.ExcursionCount = 0;
                if (!s.IsOpen(AnomalyKind.LevelShift) && Raise(s, AnomalyKind.LevelShift, ticks))
                {
                    findings.Add(new Finding(AnomalyKind.LevelShift, false, ticks, SeverityOf(s.Level - from, scale),
                        string.Create(CultureInfo.InvariantCulture, $"The level moved from about {from:0.###} to {s.Level:0.###} and stayed there."),
                        value, from - limit, from + limit));
                }
            }
            return;
        }
        if (s.ExcursionCount > 0)
        {
            EndExcursionAsOutlier(s, ticks, scale, findings);
        }
        Learn(s, value, forecast, residual, dt);
        if (++s.NormalStreak >= Options.ResolveAfter)
        {
            foreach (var kind in (ReadOnlySpan<AnomalyKind>)[AnomalyKind.Outlier, AnomalyKind.LevelShift, AnomalyKind.Implausible])
            {
                if (s.IsOpen(kind))
                {
                    s.SetOpen(kind, false);
                    findings.Add(new Finding(kind, true, ticks));
                }
            }
        }
    }

    private void Learn(SeriesState s, double value, double forecast, double residual, double dt)
    {
        var level = forecast + (Options.LevelAlpha * residual);
        // Over at least half the usual interval: two readings milliseconds apart (a burst) would otherwise make a wild slope.
        var span = Math.Max(dt, 0.5 * s.Interval);
        if (span > 0)
        {
            s.Trend += Options.TrendAlpha * (((level - s.Level) / span) - s.Trend);
        }
        s.Level = level;
        // A repeated value (a coarse sensor, or one freezing) would teach the scale a stillness that is not the signal's.
        if (value != s.LastValue || s.Count <= 1)
        {
            s.Scale = s.Count <= 1 ? Math.Abs(residual) : s.Scale + (Math.Max(Options.ScaleAlpha, 1.0 / s.Count) * (Math.Abs(residual) - s.Scale));
        }
    }

    private void EndExcursionAsOutlier(SeriesState s, long ticks, double scale, List<Finding> findings)
    {
        var count = s.ExcursionCount;
        s.ExcursionCount = 0;
        if (!s.IsOpen(AnomalyKind.Outlier) && Raise(s, AnomalyKind.Outlier, ticks))
        {
            var limit = Options.Threshold * scale;
            findings.Add(new Finding(AnomalyKind.Outlier, false, s.ExcursionStartTicks, SeverityOf(s.ExcursionPeakResidual, scale),
                string.Create(CultureInfo.InvariantCulture,
                    $"{count} reading(s) up to {s.ExcursionPeak:0.###}, {Math.Abs(s.ExcursionPeakResidual) / scale:0.#} deviations from the expected {s.Level:0.###}."),
                s.ExcursionPeak, s.Level - limit, s.Level + limit));
        }
    }

    private AnomalySeverity SeverityOf(double residual, double scale)
    {
        var deviations = Math.Abs(residual) / scale;
        return deviations > 3 * Options.Threshold ? AnomalySeverity.High : deviations > 1.5 * Options.Threshold ? AnomalySeverity.Medium : AnomalySeverity.Low;
    }

    /// <summary>Marks the kind open unless it is cooling down after its last raise (a flapping sensor is raised once per cooldown).</summary>
    private bool Raise(SeriesState s, AnomalyKind kind, long ticks)
    {
        if (ticks < s.CooldownUntil[(int)kind])
        {
            return false;
        }
        var cooldown = Math.Max(Options.Cooldown.Ticks, (long)(Options.CooldownIntervals * s.Interval * TimeSpan.TicksPerSecond));
        s.CooldownUntil[(int)kind] = ticks + cooldown;
        s.SetOpen(kind, true);
        return true;
    }
}
