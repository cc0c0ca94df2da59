using HomeIQ.Anomalies.Detection;
using HomeIQ.Contracts;
using HomeIQ.EventBus.Postgres;
using Npgsql;

namespace HomeIQ.Anomalies.Infrastructure;

/// <summary>Raises and resolves anomalies inside the caller's transaction, with their events in the outbox of the same transaction.</summary>
internal sealed class AnomalyWriter(Outbox outbox)
{
    /// <summary>Inserts the anomaly unless one of its device, metric and kind is unresolved; publishes only what was inserted.</summary>
    public async Task<bool> RaiseAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid homeId, Guid deviceId, string metric, Finding finding,
        CancellationToken ct)
    {
        var id = Guid.CreateVersion7();
        var observedAt = new DateTimeOffset(finding.Ticks, TimeSpan.Zero);
        await using var insert = new NpgsqlCommand(
            """
            INSERT INTO anomalies (id, home_id, device_id, metric, kind, status, severity, description, value, expected_low, expected_high, detected_at)
            VALUES ($1, $2, $3, $4, $5, 'open', $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING
            """, connection, transaction)
        {
            Parameters =
            {
                new() { Value = id }, new() { Value = homeId }, new() { Value = deviceId }, new() { Value = metric },
                new() { Value = KindNames.Of(finding.Kind) }, new() { Value = KindNames.Of(finding.Severity) }, new() { Value = finding.Description },
                new() { Value = (object?)finding.Value ?? DBNull.Value }, new() { Value = (object?)finding.ExpectedLow ?? DBNull.Value },
                new() { Value = (object?)finding.ExpectedHigh ?? DBNull.Value }, new() { Value = observedAt.UtcDateTime },
            },
        };
        if (await insert.ExecuteNonQueryAsync(ct) == 0)
        {
            return false;
        }
        await outbox.AddAsync(connection, transaction, new AnomalyDetected(id, homeId, deviceId, metric, finding.Kind, finding.Severity, finding.Description,
            finding.Value, finding.ExpectedLow, finding.ExpectedHigh, observedAt), ct);
        return true;
    }

    /// <summary>Resolves the unresolved anomalies of <paramref name="kind"/> on the given series (open or acknowledged alike).</summary>
    public async Task<int> ResolveAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, AnomalyKind kind, Guid[] deviceIds, string[] metrics,
        CancellationToken ct)
    {
        if (deviceIds.Length == 0)
        {
            return 0;
        }
        var resolved = new List<AnomalyResolved>();
        await using (var update = new NpgsqlCommand(
                         """
                         UPDATE anomalies a SET status = 'resolved', resolved_at = now()
                         FROM unnest($1::uuid[], $2::text[]) AS s(device_id, metric)
                         WHERE a.device_id = s.device_id AND a.metric = s.metric AND a.kind = $3 AND a.resolved_at IS NULL
                         RETURNING a.id, a.home_id, a.device_id
                         """, connection, transaction)
                     { Parameters = { new() { Value = deviceIds }, new() { Value = metrics }, new() { Value = KindNames.Of(kind) } } })
        await using (var reader = await update.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                resolved.Add(new AnomalyResolved(reader.GetGuid(0), reader.GetGuid(1), reader.GetGuid(2)));
            }
        }
        foreach (var @event in resolved)
        {
            await outbox.AddAsync(connection, transaction, @event, ct);
        }
        return resolved.Count;
    }
}
