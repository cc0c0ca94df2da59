using HomeIQ.Anomalies.Detection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace HomeIQ.Anomalies.Infrastructure;

/// <summary>
/// Raises Offline for series whose learned silence limit (stored as <c>offline_due_at</c> with every saved state) has passed on
/// the wall clock. Taking a series clears its due time in the same statement, so replicas sweeping together raise it once, and a
/// series is raised once per silence; its next reading resolves the anomaly and sets a new due time.
/// </summary>
internal sealed class OfflineSweep(NpgsqlDataSource db, AnomalyDetector detector, AnomalyWriter writer, IOptions<AnomaliesOptions> options,
    TimeProvider time, ILogger<OfflineSweep> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(options.Value.SweepStartupGrace, time, stoppingToken);
            using var timer = new PeriodicTimer(options.Value.SweepInterval, time);
            do
            {
                try
                {
                    await SweepAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException && !stoppingToken.IsCancellationRequested)
                {
                    // The next tick tries again: nothing was taken unless the transaction committed.
                    logger.LogWarning("The offline sweep failed and will run again: {Message}", ex.Message);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Raises Offline for every overdue series; returns how many were raised.</summary>
    internal async Task<int> SweepAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var due = new List<(Guid HomeId, Guid DeviceId, string Metric, SeriesState State)>();
        await using (var take = new NpgsqlCommand(
                         """
                         UPDATE anomaly_series SET offline_due_at = NULL
                         WHERE (device_id, metric) IN (SELECT device_id, metric FROM anomaly_series WHERE offline_due_at <= now()
                                                       ORDER BY offline_due_at LIMIT 1000 FOR UPDATE SKIP LOCKED)
                         RETURNING home_id, device_id, metric, state
                         """, connection, transaction))
        await using (var reader = await take.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                due.Add((reader.GetGuid(0), reader.GetGuid(1), reader.GetString(2), SeriesState.FromBytes(reader.GetFieldValue<byte[]>(3))));
            }
        }
        var raised = 0;
        var now = time.GetUtcNow().UtcTicks;
        foreach (var (homeId, deviceId, metric, state) in due)
        {
            var finding = AnomalyDetector.Offline(state, detector.OfflineAfterSeconds(state), now);
            if (await writer.RaiseAsync(connection, transaction, homeId, deviceId, metric, finding, ct))
            {
                raised++;
            }
        }
        await transaction.CommitAsync(ct);
        return raised;
    }
}
