namespace HomeIQ.Automations;

/// <summary>Settings, section <c>Automations</c>.</summary>
public sealed class AutomationsOptions
{
    /// <summary>How long a command step waits for the device's reply before it counts as timed out (the command's deadline).</summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often overdue steps, reading triggers whose duration passed by the clock, and due schedules are looked for.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A schedule found due later than this (Automations was down at the time) is skipped, not run late.</summary>
    public TimeSpan ScheduleGrace { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Stored-readings events handled together (one query for the rules of their homes).</summary>
    public int MaxBatchMessages { get; set; } = 256;

    /// <summary>How long a batch of those events waits to fill.</summary>
    public TimeSpan MaxBatchWait { get; set; } = TimeSpan.FromMilliseconds(100);
}
