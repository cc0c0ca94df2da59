using HomeIQ.Anomalies.Detection;
using HomeIQ.Contracts;
using HomeIQ.EventBus;
using HomeIQ.EventBus.Postgres;
using Npgsql;
using NpgsqlTypes;

namespace HomeIQ.Anomalies.Infrastructure;

/// <summary>
/// Runs every batch of <see cref="SensorReadingsReceived"/> through the detector in ONE transaction: the inbox rows of the batch's
/// events (events handled before are skipped), the changed series states (saved only over the version they were loaded at),
/// the raised and resolved anomalies and their outbox events. Readings of a series are judged in timestamp order; a reading not
/// newer than its series' last one is ignored by the detector, so redelivery after a crash neither learns nor raises twice.
/// </summary>
internal sealed class ReadingsDetection(NpgsqlDataSource db, AnomalyDetector detector, SeriesCache cache, AnomalyWriter writer)
    : IIntegrationEventBatchHandler<SensorReadingsReceived>
{
    private const string HandlerName = nameof(ReadingsDetection);

    private readonly record struct Item(Guid HomeId, Guid DeviceId, string Metric, string Unit, double Value, long Ticks);

    public async Task HandleAsync(IReadOnlyList<SensorReadingsReceived> events, CancellationToken cancellationToken)
    {
        var touched = new HashSet<(Guid, string)>();
        try
        {
            await HandleInTransactionAsync(events, touched, cancellationToken);
        }
        catch
        {
            // The states in memory may have learned readings that were never committed: reload them from the database next time.
            cache.Forget(touched);
            throw;
        }
    }

    private async Task HandleInTransactionAsync(IReadOnlyList<SensorReadingsReceived> events, HashSet<(Guid, string)> touched, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var fresh = await PostgresInbox.RecordAsync(connection, transaction, events.Select(e => e.Id), HandlerName, ct);
        // Each series' readings in arrival order, then in time order (usually they already are), so readings of one batch that
        // arrive out of order are still learned in order. Grouping costs a lookup only where the series changes from the previous
        // reading's (readings of one series usually come together); sorting the whole batch cost more.
        var series = new Dictionary<(Guid, string), List<Item>>();
        List<Item>? last = null;
        foreach (var @event in events)
        {
            if (!fresh.Contains(@event.Id))
            {
                continue;
            }
            foreach (var r in @event.Readings ?? [])
            {
                if (r is { Metric.Length: > 0 and <= 200 } && r.DeviceId != Guid.Empty && double.IsFinite(r.Value) && !r.Metric.Contains('\0', StringComparison.Ordinal))
                {
                    if (last is null || last[^1].DeviceId != r.DeviceId || !string.Equals(last[^1].Metric, r.Metric, StringComparison.Ordinal))
                    {
                        var key = (r.DeviceId, r.Metric);
                        if (!series.TryGetValue(key, out last))
                        {
                            series[key] = last = [];
                        }
                    }
                    last.Add(new Item(@event.HomeId, r.DeviceId, r.Metric, r.Unit ?? "", r.Value, r.Timestamp.UtcTicks));
                }
            }
        }
        if (series.Count > 0)
        {
            foreach (var (key, items) in series)
            {
                if (!InTimeOrder(items))
                {
                    items.Sort(static (a, b) => a.Ticks.CompareTo(b.Ticks));
                }
                touched.Add(key);
            }
            var states = await LoadAsync(connection, transaction, touched, ct);
            await DetectAsync(connection, transaction, series.Values, states, ct);
        }
        await transaction.CommitAsync(ct);
    }

    private static bool InTimeOrder(List<Item> items)
    {
        for (var i = 1; i < items.Count; i++)
        {
            if (items[i].Ticks < items[i - 1].Ticks)
            {
                return false;
            }
        }
        return true;
    }

    private async Task<Dictionary<(Guid, string), SeriesState>> LoadAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        HashSet<(Guid, string)> keys, CancellationToken ct)
    {
        var states = new Dictionary<(Guid, string), SeriesState>(keys.Count);
        var missing = new List<(Guid DeviceId, string Metric)>();
        foreach (var key in keys)
        {
            if (cache.TryGet(key, out var state))
            {
                states[key] = state;
            }
            else
            {
                missing.Add(key);
            }
        }
        if (missing.Count > 0)
        {
            await using var select = new NpgsqlCommand(
                """
                SELECT s.device_id, s.metric, s.state, s.version FROM anomaly_series s
                JOIN unnest($1::uuid[], $2::text[]) AS k(device_id, metric) ON s.device_id = k.device_id AND s.metric = k.metric
                """, connection, transaction)
            {
                Parameters = { new() { Value = missing.Select(k => k.DeviceId).ToArray() }, new() { Value = missing.Select(k => k.Metric).ToArray() } },
            };
            await using var reader = await select.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var state = SeriesState.FromBytes(reader.GetFieldValue<byte[]>(2));
                state.Version = reader.GetInt64(3);
                states[(reader.GetGuid(0), reader.GetString(1))] = state;
            }
        }
        foreach (var (deviceId, metric) in missing)
        {
            if (!states.ContainsKey((deviceId, metric)))
            {
                states[(deviceId, metric)] = new SeriesState();
            }
        }
        return states;
    }

    private async Task DetectAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IEnumerable<List<Item>> series,
        Dictionary<(Guid, string), SeriesState> states, CancellationToken ct)
    {
        var findings = new List<Finding>();
        var changed = new Dictionary<(Guid, string), (Guid HomeId, SeriesState State)>();
        var raised = new List<(Item Item, Finding Finding)>();
        foreach (var items in series)
        {
            var key = (items[0].DeviceId, items[0].Metric);
            var state = states[key];
            Guid? home = null;
            foreach (var item in items)
            {
                findings.Clear();
                if (!detector.Observe(state, item.Metric, item.Unit, item.Value, item.Ticks, findings))
                {
                    continue;
                }
                home = item.HomeId;
                foreach (var finding in findings)
                {
                    raised.Add((item, finding));
                }
            }
            if (home is { } homeId)
            {
                changed[key] = (homeId, state);
            }
        }
        await SaveAsync(connection, transaction, changed, ct);
        // In the order the detector decided them: a raise and its resolution in one batch leave a resolved anomaly.
        foreach (var (item, finding) in raised)
        {
            if (finding.Resolved)
            {
                await writer.ResolveAsync(connection, transaction, finding.Kind, [item.DeviceId], [item.Metric], ct);
            }
            else
            {
                await writer.RaiseAsync(connection, transaction, item.HomeId, item.DeviceId, item.Metric, finding, ct);
            }
        }
        // A reading from a series the sweep declared offline ends that anomaly.
        await writer.ResolveAsync(connection, transaction, AnomalyKind.Offline, [.. changed.Keys.Select(k => k.Item1)], [.. changed.Keys.Select(k => k.Item2)], ct);
        foreach (var (key, (_, state)) in changed)
        {
            cache.Set(key, state);
        }
    }

    private async Task SaveAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        Dictionary<(Guid, string), (Guid HomeId, SeriesState State)> changed, CancellationToken ct)
    {
        if (changed.Count == 0)
        {
            return;
        }
        var n = changed.Count;
        var (devices, metrics, homes, blobs, versions, lasts, dues) =
            (new Guid[n], new string[n], new Guid[n], new byte[n][], new long[n], new DateTime[n], new DateTime?[n]);
        var i = 0;
        foreach (var ((deviceId, metric), (homeId, state)) in changed)
        {
            state.Version++;
            (devices[i], metrics[i], homes[i], blobs[i], versions[i]) = (deviceId, metric, homeId, state.ToBytes(), state.Version);
            lasts[i] = new DateTime(state.LastTicks, DateTimeKind.Utc);
            dues[i] = detector.OfflineDueTicks(state) is { } due ? new DateTime(Math.Min(due, DateTime.MaxValue.Ticks), DateTimeKind.Utc) : null;
            i++;
        }
        await using var upsert = new NpgsqlCommand(
            """
            INSERT INTO anomaly_series AS s (device_id, metric, home_id, state, version, last_ts, offline_due_at)
            SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::bytea[], $5::bigint[], $6::timestamptz[], $7::timestamptz[])
            ON CONFLICT (device_id, metric) DO UPDATE
            SET home_id = excluded.home_id, state = excluded.state, version = excluded.version, last_ts = excluded.last_ts,
                offline_due_at = excluded.offline_due_at, updated_at = now()
            WHERE s.version = excluded.version - 1
            """, connection, transaction)
        {
            Parameters =
            {
                new() { Value = devices }, new() { Value = metrics }, new() { Value = homes },
                new() { Value = blobs, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea }, new() { Value = versions },
                new() { Value = lasts }, new() { Value = dues, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz },
            },
        };
        if (await upsert.ExecuteNonQueryAsync(ct) != n)
        {
            throw new InvalidOperationException("A series' learned state changed since it was loaded (another replica handled it); the batch is retried.");
        }
    }
}
