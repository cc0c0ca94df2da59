namespace HomeIQ.Anomalies.Detection;

/// <summary>
/// The detector's thresholds. The defaults were tuned on the benchmark's tuning seed (bench/AnomalyBench, seed 1) and reported on
/// other seeds; every threshold is relative to what the series itself learned, except <see cref="MinOfflineAfter"/>.
/// </summary>
public sealed class DetectorOptions
{
    /// <summary>Readings learned before a series' values are judged.</summary>
    public int Warmup { get; set; } = 30;

    /// <summary>Weight of a new reading in the level (an EWMA): high enough to follow daily cycles between readings.</summary>
    public double LevelAlpha { get; set; } = 0.3;

    /// <summary>Weight of a new slope in the trend (Holt's method): removes the lag an EWMA has on a rising or falling daily curve.</summary>
    public double TrendAlpha { get; set; } = 0.1;

    /// <summary>Weight of a new absolute residual in the scale (the mean absolute deviation from the level).</summary>
    public double ScaleAlpha { get; set; } = 0.05;

    /// <summary>A reading further than this many scales from the level is an excursion.</summary>
    public double Threshold { get; set; } = 7;

    /// <summary>This many excursions in a row on the same side are a level shift; fewer, followed by a normal reading, are an outlier.</summary>
    public int ShiftReadings { get; set; } = 4;

    /// <summary>Normal readings in a row that resolve an open outlier, level shift or implausible value.</summary>
    public int ResolveAfter { get; set; } = 10;

    /// <summary>After an anomaly of a kind is raised, the same kind is not raised again on the series for this long at least…</summary>
    public TimeSpan Cooldown { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>…or for this many learned intervals, whichever is longer.</summary>
    public int CooldownIntervals { get; set; } = 20;

    /// <summary>A series is offline after this many learned intervals without a reading.</summary>
    public double OfflineFactor { get; set; } = 2.5;

    /// <summary>…but never sooner than this after its last reading (absorbs the pipeline's own delay for very fast series).</summary>
    public TimeSpan MinOfflineAfter { get; set; } = TimeSpan.Zero;

    /// <summary>Inter-arrival times learned before offline is judged.</summary>
    public int IntervalWarmup { get; set; } = 5;

    /// <summary>An unchanged value is stuck when it lasts this many times the longest stillness the series normally shows…</summary>
    public double StuckFactor { get; set; } = 3;

    /// <summary>…and at least this many learned intervals…</summary>
    public int StuckMinReadings { get; set; } = 30;

    /// <summary>…once the series has changed value at least this often (a sensor that never changed is not judged).</summary>
    public int StuckMinChanges { get; set; } = 20;
}
