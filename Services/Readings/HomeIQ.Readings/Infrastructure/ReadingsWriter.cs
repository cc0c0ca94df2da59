using HomeIQ.Contracts;
using HomeIQ.EventBus;
using HomeIQ.EventBus.Postgres;
using HomeIQ.Postgres;
using Npgsql;

namespace HomeIQ.Readings.Infrastructure;

/// <summary>
/// Stores batches of <see cref="SensorReadingsReceived"/> in one transaction: binary COPY of every reading into a temporary
/// staging table, then one statement that inserts the new rows (<c>ON CONFLICT DO NOTHING</c> on (device, metric, ts), so a
/// redelivery adds nothing), merges exactly those rows into <c>readings_1h</c> and <c>readings_latest</c>, and returns per home the
/// count and latest values for the <see cref="ReadingsStored"/> written to the outbox. The bus acks the messages after the commit.
/// </summary>
internal sealed class ReadingsWriter(NpgsqlDataSource db, ReadingPartitions partitions, Outbox outbox, ILogger<ReadingsWriter> logger)
    : IIntegrationEventBatchHandler<SensorReadingsReceived>
{
    /// <summary>Older or later readings are not stored (ingestion never accepts them).</summary>
    private static readonly DateTimeOffset Earliest = new(1970, 1, 2, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan LatestAhead = TimeSpan.FromDays(7);

    internal const string CreateStaging = """
        CREATE TEMP TABLE readings_staging (
            home_id uuid NOT NULL, device_id uuid NOT NULL, metric text NOT NULL, ts timestamptz NOT NULL,
            value double precision NOT NULL, unit text NOT NULL, seq bigint NULL) ON COMMIT DROP
        """;

    /// <summary>The merge sorts a batch's rows twice (rollup, newest); 4 MB by default would spill them to disk.</summary>
    internal const string SortMemory = "SET LOCAL work_mem = '64MB'";

    // Every data-modifying CTE runs once whether referenced or not; all of them see only what "ins" really inserted.
    internal const string Merge = """
        WITH ins AS (
            INSERT INTO readings (home_id, device_id, metric, ts, value, unit, seq)
            SELECT home_id, device_id, metric, ts, value, unit, seq FROM readings_staging ORDER BY device_id, metric, ts
            ON CONFLICT DO NOTHING
            RETURNING home_id, device_id, metric, ts, value, unit),
        rollup AS (
            INSERT INTO readings_1h AS r (home_id, device_id, metric, bucket, min, max, sum, count)
            SELECT (array_agg(home_id))[1], device_id, metric, date_bin('1 hour', ts, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket,
                   min(value), max(value), sum(value), count(*)
            FROM ins GROUP BY device_id, metric, bucket ORDER BY device_id, metric, bucket
            ON CONFLICT (device_id, metric, bucket) DO UPDATE
            SET min = least(r.min, excluded.min), max = greatest(r.max, excluded.max), sum = r.sum + excluded.sum, count = r.count + excluded.count),
        newest AS (
            SELECT DISTINCT ON (device_id, metric) home_id, device_id, metric, ts, value, unit FROM ins ORDER BY device_id, metric, ts DESC),
        latest AS (
            INSERT INTO readings_latest AS l (home_id, device_id, metric, ts, value, unit)
            SELECT home_id, device_id, metric, ts, value, unit FROM newest ORDER BY device_id, metric
            ON CONFLICT (device_id, metric) DO UPDATE SET home_id = excluded.home_id, ts = excluded.ts, value = excluded.value, unit = excluded.unit
            WHERE l.ts < excluded.ts)
        SELECT n.home_id, n.device_id, n.metric, n.ts, n.value, n.unit, c.inserted
        FROM newest n JOIN (SELECT home_id, count(*) AS inserted FROM ins GROUP BY home_id) c ON c.home_id = n.home_id
        ORDER BY n.home_id
        """;

    public async Task HandleAsync(IReadOnlyList<SensorReadingsReceived> events, CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        var days = new HashSet<DateOnly>();
        var storable = 0;
        foreach (var @event in events)
        {
            foreach (var reading in @event.Readings ?? [])
            {
                if (IsStorable(reading, now))
                {
                    days.Add(DateOnly.FromDateTime(reading.Timestamp.UtcDateTime));
                    storable++;
                }
            }
        }
        if (storable == 0)
        {
            return;
        }
        await partitions.EnsureAsync(days, cancellationToken);
        try
        {
            await WriteAsync(events, now, cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.CheckViolation)
        {
            // "no partition of relation found for row": another replica's retention dropped a day this one still remembered.
            logger.LogInformation("A reading found no partition ({Message}); creating the partitions again", ex.MessageText);
            partitions.Forget();
            await partitions.EnsureAsync(days, cancellationToken);
            await WriteAsync(events, now, cancellationToken);
        }
    }

    // U+0000 in a text column fails the whole COPY (22021); ingestion rejects it, but one such reading must not make its batch undeliverable.
    private static bool IsStorable(SensorReading? reading, DateTimeOffset now) =>
        reading is { Metric.Length: > 0 and <= 200 } && !reading.Metric.Contains('\0', StringComparison.Ordinal) && reading.Unit?.Contains('\0', StringComparison.Ordinal) != true
        && double.IsFinite(reading.Value)
        && reading.Timestamp >= Earliest && reading.Timestamp <= now + LatestAhead && reading.DeviceId != Guid.Empty;

    private async Task WriteAsync(IReadOnlyList<SensorReadingsReceived> events, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // Fast path, for the usual batch that holds only new readings: COPY straight into the table, and merge the rollup, the
        // latest values and ReadingsStored from what this batch summed up in memory. A reading already stored (a redelivery, or a
        // hub's resend) makes the COPY fail on the key: then the batch goes the exact way, through staging and ON CONFLICT.
        await transaction.SaveAsync("direct", cancellationToken);
        var summary = new BatchSummary();
        try
        {
            await CopyAsync(connection, "readings", events, now, summary, cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            await transaction.RollbackAsync("direct", cancellationToken);
            await WriteThroughStagingAsync(connection, transaction, events, now, cancellationToken);
            return;
        }
        await summary.MergeAsync(connection, transaction, cancellationToken);
        foreach (var @event in summary.Stored())
        {
            await outbox.AddAsync(connection, transaction, @event, cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Binary COPY of every storable reading of the batch into <paramref name="table"/>; <paramref name="summary"/> sums them up on the way.</summary>
    internal static async Task CopyAsync(NpgsqlConnection connection, string table, IReadOnlyList<SensorReadingsReceived> events, DateTimeOffset now,
        BatchSummary? summary, CancellationToken cancellationToken)
    {
        await using var copy = await BinaryCopyWriter.BeginAsync(connection,
            $"COPY {table} (home_id, device_id, metric, ts, value, unit, seq) FROM STDIN (FORMAT BINARY)", cancellationToken);
        foreach (var @event in events)
        {
            foreach (var reading in @event.Readings ?? [])
            {
                if (!IsStorable(reading, now))
                {
                    continue;
                }
                summary?.Add(@event.HomeId, reading);
                await copy.StartRowAsync(7, cancellationToken);
                copy.WriteUuid(@event.HomeId);
                copy.WriteUuid(reading.DeviceId);
                copy.WriteText(reading.Metric);
                copy.WriteTimestampTz(reading.Timestamp);
                copy.WriteDouble(reading.Value);
                copy.WriteText(reading.Unit ?? "");
                if (reading.Sequence is { } sequence)
                {
                    copy.WriteInt64(sequence);
                }
                else
                {
                    copy.WriteNull();
                }
            }
        }
        await copy.CompleteAsync(cancellationToken);
    }

    private async Task WriteThroughStagingAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<SensorReadingsReceived> events,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using (var create = new NpgsqlCommand(CreateStaging + ";\n" + SortMemory, connection, transaction))
        {
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
        await CopyAsync(connection, "readings_staging", events, now, summary: null, cancellationToken);
        var stored = new List<ReadingsStored>();
        await using (var merge = new NpgsqlCommand(Merge, connection, transaction))
        await using (var reader = await merge.ExecuteReaderAsync(cancellationToken))
        {
            Guid? home = null;
            var count = 0;
            var latest = new List<LatestReading>();
            while (await reader.ReadAsync(cancellationToken))
            {
                var homeId = reader.GetGuid(0);
                if (home != homeId)
                {
                    if (home is { } previous)
                    {
                        stored.Add(new ReadingsStored(previous, count, latest));
                    }
                    home = homeId;
                    count = (int)reader.GetInt64(6);
                    latest = [];
                }
                latest.Add(new LatestReading(reader.GetGuid(1), reader.GetString(2), reader.GetDouble(4), reader.GetString(5),
                    new DateTimeOffset(reader.GetDateTime(3), TimeSpan.Zero)));
            }
            if (home is { } last)
            {
                stored.Add(new ReadingsStored(last, count, latest));
            }
        }
        foreach (var @event in stored)
        {
            await outbox.AddAsync(connection, transaction, @event, cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }
}
