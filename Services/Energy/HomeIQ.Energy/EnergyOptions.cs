using System.ComponentModel.DataAnnotations;

namespace HomeIQ.Energy;

/// <summary>Energy settings, section <c>Energy</c>.</summary>
public sealed class EnergyOptions
{
    /// <summary>Two power readings further apart than this say nothing about the time between them (no energy is counted).</summary>
    public TimeSpan MaxPowerGap { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Messages per batch of readings; almost all of them carry no energy or power and cost nothing.</summary>
    [Range(1, 512)]
    public int MaxBatchMessages { get; set; } = 256;

    public TimeSpan MaxBatchWait { get; set; } = TimeSpan.FromMilliseconds(100);
}
