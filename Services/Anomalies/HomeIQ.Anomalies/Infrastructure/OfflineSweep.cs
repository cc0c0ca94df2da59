using HomeIQ.Anomalies.Detection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace HomeIQ.Anomalies.Infrastructure;

/// <summary>
/// Raises Offline for series whose learned silence limit (stored as <c>offline_due_at</c> with every saved state) has passed on
/// the wall clock. Taking a series clears its due time in the same statement, so replicas sweeping together raise it once, and a
/// series is raised once per silence; its next reading resolves the anomaly and sets a new due time. A series that went offline
/// and came back within the detector's cooldown is not raised again before the cooldown ends.
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
        var cooling = await CoolingDownAsync(connection, transaction, due.Select(d => (d.DeviceId, d.Metric)).ToList(), ct);
        var raised = 0;
        var now = time.GetUtcNow().UtcTicks;
        foreach (var (homeId, deviceId, metric, state) in due)
        {
            if (cooling.TryGetValue((deviceId, metric), out var until))
            {
                // A sensor whose connection flaps is raised once per cooldown: look again when it ends, if it is still silent then.
                await using var postpone = new NpgsqlCommand(
                    "UPDATE anomaly_series SET offline_due_at = $3 WHERE device_id = $1 AND metric = $2 AND offline_due_at IS NULL", connection, transaction)
                {
                    Parameters = { new() { Value = deviceId }, new() { Value = metric }, new() { Value = until } },
                };
                await postpone.ExecuteNonQueryAsync(ct);
                continue;
            }
            var finding = AnomalyDetector.Offline(state, detector.OfflineAfterSeconds(state), now);
            if (await writer.RaiseAsync(connection, transaction, homeId, deviceId, metric, finding, ct))
            {
                raised++;
            }
        }
        await transaction.CommitAsync(ct);
        return raised;
    }

    /// <summary>The series among <paramref name="series"/> whose last offline anomaly resolved within the cooldown, and when it ends.</summary>
    private async Task<Dictionary<(Guid, string), DateTime>> CoolingDownAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        List<(Guid DeviceId, string Metric)> series, CancellationToken ct)
    {
        var cooling = new Dictionary<(Guid, string), DateTime>();
        if (series.Count == 0)
        {
            return cooling;
        }
        await using var select = new NpgsqlCommand(
            """
            SELECT a.device_id, a.metric, max(a.resolved_at) + $3 FROM anomalies a
            JOIN unnest($1::uuid[], $2::text[]) AS s(device_id, metric) ON a.device_id = s.device_id AND a.metric = s.metric
            WHERE a.kind = 'offline' AND a.resolved_at > now() - $3
            GROUP BY a.device_id, a.metric
            """, connection, transaction)
        {
            Parameters =
            {
                new() { Value = series.Select(s => s.DeviceId).ToArray() }, new() { Value = series.Select(s => s.Metric).ToArray() },
                new() { Value = detector.Options.Cooldown },
            },
        };
        await using var reader = await select.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            cooling[(reader.GetGuid(0), reader.GetString(1))] = reader.GetDateTime(2);
        }
        return cooling;
    }
}
