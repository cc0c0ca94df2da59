using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace HomeIQ.Readings.Infrastructure;

/// <summary>Readings settings, section <c>Readings</c>.</summary>
public sealed class ReadingsOptions
{
    /// <summary>How long raw readings are kept; a day partition is dropped once its whole day is older. Rollups are kept.</summary>
    public TimeSpan RawRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How often partitions ahead are created and expired ones dropped.</summary>
    public TimeSpan MaintenanceInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How many messages one COPY transaction takes at most.</summary>
    [Range(1, 512)]
    public int MaxBatchMessages { get; set; } = 128;

    /// <summary>How long a batch waits for more messages after its first.</summary>
    public TimeSpan MaxBatchWait { get; set; } = TimeSpan.FromMilliseconds(20);
}

/// <summary>Creates the partitions of yesterday to the day after tomorrow, and drops raw partitions past retention.</summary>
internal sealed class ReadingsMaintenance(ReadingPartitions partitions, IOptions<ReadingsOptions> options, TimeProvider time, ILogger<ReadingsMaintenance> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RunOnceAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(ex, "Partition maintenance failed; trying again in {Interval}", options.Value.MaintenanceInterval);
            }
            try
            {
                await Task.Delay(options.Value.MaintenanceInterval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One maintenance pass at the current time.</summary>
    internal async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        await partitions.EnsureAsync([today.AddDays(-1), today, today.AddDays(1), today.AddDays(2)], cancellationToken);
        await DropExpiredAsync(now, options.Value.RawRetention, cancellationToken);
    }

    /// <summary>Drops the raw partitions whose whole day is older than <paramref name="retention"/> at <paramref name="now"/>.</summary>
    internal async Task<IReadOnlyList<string>> DropExpiredAsync(DateTimeOffset now, TimeSpan retention, CancellationToken cancellationToken)
    {
        var dropped = await partitions.DropEndingBeforeAsync(now - retention, cancellationToken);
        if (dropped.Count > 0)
        {
            logger.LogInformation("Retention ({Retention}) dropped raw partitions {Partitions}; rollups are kept", retention, string.Join(", ", dropped));
        }
        return dropped;
    }
}
