using HomeIQ.Anomalies.Detection;

namespace HomeIQ.Anomalies.Infrastructure;

/// <summary>Settings, section <c>Anomalies</c> (the detector's under <c>Anomalies:Detector</c>).</summary>
public sealed class AnomaliesOptions
{
    /// <summary>How often the offline sweep looks for overdue series.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// No offline sweep this long after start: readings queued while the service was down would otherwise make every series look
    /// silent until the backlog is consumed.
    /// </summary>
    public TimeSpan SweepStartupGrace { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Readings messages handled per transaction.</summary>
    public int MaxBatchMessages { get; set; } = 64;

    /// <summary>How long a batch waits to fill.</summary>
    public TimeSpan MaxBatchWait { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The detector's thresholds; the pipeline's own delay makes an offline verdict sooner than 5 s meaningless.</summary>
    public DetectorOptions Detector { get; set; } = new() { MinOfflineAfter = TimeSpan.FromSeconds(5) };
}
