using HomeIQ.Contracts;
using HomeIQ.Energy.Domain;
using HomeIQ.EventBus;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace HomeIQ.Energy.Infrastructure;

/// <summary>
/// Turns batches of readings into hourly kWh. Energy and power readings are picked out in memory (the rest, almost all, never reach
/// the database); new points are stored with <c>ON CONFLICT DO NOTHING</c>, and the hours each new point can change (from its stored
/// neighbours) are recomputed from the stored points and <b>set</b>. Totals are therefore a function of the set of points: a
/// redelivery, a resend with a new event id, or a reading hours late changes nothing or exactly what it should. No inbox is kept
/// for the same reason. One transaction per batch; the bus acks after it commits.
/// </summary>
internal sealed class EnergyReadingsHandler(NpgsqlDataSource db, IOptions<EnergyOptions> options) : IIntegrationEventBatchHandler<SensorReadingsReceived>
{
    public async Task HandleAsync(IReadOnlyList<SensorReadingsReceived> events, CancellationToken cancellationToken)
    {
        var points = EnergyReadings.Pick(events, DateTime.UtcNow);
        if (points.Count == 0)
        {
            return;
        }
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var series = points.GroupBy(p => (p.DeviceId, p.Kind)).OrderBy(g => g.Key.DeviceId).ThenBy(g => g.Key.Kind).ToList();
        // Replicas (or a batch retried alongside the next) must not recompute the same series from different snapshots: the
        // last to commit would miss the other's points. Locks are taken in one order, so two batches cannot deadlock.
        await using (var locks = new NpgsqlCommand("SELECT count(*) FROM (SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS u(k)) AS l", connection, transaction))
        {
            locks.Parameters.Add(new() { Value = series.Select(s => LockKey(s.Key.DeviceId, s.Key.Kind)).ToArray() });
            await locks.ExecuteScalarAsync(cancellationToken);
        }
        var inserted = await InsertAsync(connection, transaction, points, cancellationToken);
        if (inserted.Count == 0)
        {
            return; // every point was stored before: nothing changes (the rollback on dispose leaves nothing)
        }
        await RememberDevicesAsync(connection, transaction, points, cancellationToken);
        foreach (var group in inserted.GroupBy(p => (p.DeviceId, p.Kind)))
        {
            var home = points.First(p => p.DeviceId == group.Key.DeviceId).HomeId;
            await RecomputeAsync(connection, transaction, home, group.Key.DeviceId, group.Key.Kind, group.Min(p => p.Ts), group.Max(p => p.Ts), cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }

    private static long LockKey(Guid deviceId, SeriesKind kind) => BitConverter.ToInt64(deviceId.ToByteArray(), 0) ^ (long)kind;

    private static async Task<List<(Guid DeviceId, SeriesKind Kind, DateTime Ts)>> InsertAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        List<EnergyReading> points, CancellationToken cancellationToken)
    {
        await using var insert = new NpgsqlCommand("""
            INSERT INTO energy_points (device_id, metric, ts, value, home_id)
            SELECT * FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::double precision[], $5::uuid[]) ORDER BY 1, 2, 3
            ON CONFLICT DO NOTHING
            RETURNING device_id, metric, ts
            """, connection, transaction)
        {
            Parameters =
            {
                new() { Value = points.Select(p => p.DeviceId).ToArray() },
                new() { Value = points.Select(p => EnergyCalculator.MetricOf(p.Kind)).ToArray() },
                new() { Value = points.Select(p => p.Ts).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz },
                new() { Value = points.Select(p => p.Value).ToArray() },
                new() { Value = points.Select(p => p.HomeId).ToArray() },
            },
        };
        var inserted = new List<(Guid, SeriesKind, DateTime)>();
        await using var reader = await insert.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var kind = reader.GetString(1) == EnergyCalculator.EnergyMetric ? SeriesKind.Counter : SeriesKind.Power;
            inserted.Add((reader.GetGuid(0), kind, DateTime.SpecifyKind(reader.GetDateTime(2), DateTimeKind.Utc)));
        }
        return inserted;
    }

    /// <summary>Devices Energy has not heard of from the registry yet are known from their readings; a counter makes a device counted by it.</summary>
    private static async Task RememberDevicesAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, List<EnergyReading> points, CancellationToken cancellationToken)
    {
        var devices = points.GroupBy(p => p.DeviceId).Select(g => (Id: g.Key, g.First().HomeId, Counter: g.Any(p => p.Kind == SeriesKind.Counter)))
            .OrderBy(d => d.Id).ToList();
        await using var upsert = new NpgsqlCommand("""
            INSERT INTO energy_devices AS d (device_id, home_id, has_counter)
            SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::boolean[])
            ON CONFLICT (device_id) DO UPDATE SET has_counter = true WHERE excluded.has_counter AND NOT d.has_counter
            """, connection, transaction)
        {
            Parameters =
            {
                new() { Value = devices.Select(d => d.Id).ToArray() },
                new() { Value = devices.Select(d => d.HomeId).ToArray() },
                new() { Value = devices.Select(d => d.Counter).ToArray() },
            },
        };
        await upsert.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task RecomputeAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid homeId, Guid deviceId, SeriesKind kind,
        DateTime earliest, DateTime latest, CancellationToken cancellationToken)
    {
        var metric = EnergyCalculator.MetricOf(kind);
        DateTime? previous, next;
        await using (var neighbours = new NpgsqlCommand("""
            SELECT (SELECT max(ts) FROM energy_points WHERE device_id = $1 AND metric = $2 AND ts < $3),
                   (SELECT min(ts) FROM energy_points WHERE device_id = $1 AND metric = $2 AND ts > $4)
            """, connection, transaction) { Parameters = { new() { Value = deviceId }, new() { Value = metric }, Utc(earliest), Utc(latest) } })
        await using (var reader = await neighbours.ExecuteReaderAsync(cancellationToken))
        {
            await reader.ReadAsync(cancellationToken);
            previous = reader.IsDBNull(0) ? null : DateTime.SpecifyKind(reader.GetDateTime(0), DateTimeKind.Utc);
            next = reader.IsDBNull(1) ? null : DateTime.SpecifyKind(reader.GetDateTime(1), DateTimeKind.Utc);
        }
        var window = EnergyCalculator.Window(earliest, latest, previous, next);
        var stored = await EnergyStore.SeriesPointsAsync(connection, transaction, deviceId, metric, window, cancellationToken);
        var hours = EnergyCalculator.Hourly(kind, stored, options.Value.MaxPowerGap, window);
        var batch = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                new("DELETE FROM energy_hourly WHERE device_id = $1 AND metric = $2 AND hour >= $3 AND hour < $4")
                {
                    Parameters = { new() { Value = deviceId }, new() { Value = metric }, Utc(window.Start), Utc(window.End) },
                },
                new("""
                    INSERT INTO energy_hourly (home_id, device_id, metric, hour, kwh)
                    SELECT $1, $2, $3, h, k FROM unnest($4::timestamptz[], $5::double precision[]) AS u(h, k)
                    """)
                {
                    Parameters =
                    {
                        new() { Value = homeId }, new() { Value = deviceId }, new() { Value = metric },
                        new() { Value = hours.Keys.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz },
                        new() { Value = hours.Values.ToArray() },
                    },
                },
            },
        };
        await using (batch)
        {
            await batch.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    private static NpgsqlParameter Utc(DateTime value) => new() { Value = value, NpgsqlDbType = NpgsqlDbType.TimestampTz };
}
