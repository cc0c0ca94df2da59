using HomeIQ.Contracts;
using Npgsql;

namespace HomeIQ.Readings.Infrastructure;

/// <summary>
/// What a batch of new readings adds, summed up in memory while it is copied: per device metric and hour the min, max, sum and
/// count (for <c>readings_1h</c>), the newest reading per device metric (for <c>readings_latest</c> and <see cref="ReadingsStored"/>),
/// and the count per home. Valid only when every reading of the batch was inserted.
/// </summary>
internal sealed class BatchSummary
{
    private readonly Dictionary<(Guid Device, string Metric, DateTime Bucket), Hour> _hours = [];
    private readonly Dictionary<(Guid Device, string Metric), (Guid Home, SensorReading Reading)> _newest = [];
    private readonly Dictionary<Guid, int> _perHome = [];

    private sealed class Hour(Guid home, double value)
    {
        public Guid Home { get; } = home;
        public double Min { get; set; } = value;
        public double Max { get; set; } = value;
        public double Sum { get; set; }
        public long Count { get; set; }
    }

    public void Add(Guid home, SensorReading reading)
    {
        var ts = reading.Timestamp.UtcDateTime;
        var bucket = new DateTime(ts.Ticks - ts.Ticks % TimeSpan.TicksPerHour, DateTimeKind.Utc);
        if (!_hours.TryGetValue((reading.DeviceId, reading.Metric, bucket), out var hour))
        {
            _hours[(reading.DeviceId, reading.Metric, bucket)] = hour = new Hour(home, reading.Value);
        }
        hour.Min = Math.Min(hour.Min, reading.Value);
        hour.Max = Math.Max(hour.Max, reading.Value);
        hour.Sum += reading.Value;
        hour.Count++;
        if (!_newest.TryGetValue((reading.DeviceId, reading.Metric), out var newest) || newest.Reading.Timestamp < reading.Timestamp)
        {
            _newest[(reading.DeviceId, reading.Metric)] = (home, reading);
        }
        _perHome[home] = _perHome.GetValueOrDefault(home) + 1;
    }

    /// <summary>Merges the hours into <c>readings_1h</c> and the newest values into <c>readings_latest</c>, in key order.</summary>
    public async Task MergeAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        var hours = _hours.OrderBy(h => h.Key.Device).ThenBy(h => h.Key.Metric, StringComparer.Ordinal).ThenBy(h => h.Key.Bucket).ToArray();
        await using (var rollup = new NpgsqlCommand("""
            INSERT INTO readings_1h AS r (home_id, device_id, metric, bucket, min, max, sum, count)
            SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::timestamptz[], $5::float8[], $6::float8[], $7::float8[], $8::bigint[])
            ON CONFLICT (device_id, metric, bucket) DO UPDATE
            SET min = least(r.min, excluded.min), max = greatest(r.max, excluded.max), sum = r.sum + excluded.sum, count = r.count + excluded.count
            """, connection, transaction))
        {
            rollup.Parameters.Add(new() { Value = hours.Select(h => h.Value.Home).ToArray() });
            rollup.Parameters.Add(new() { Value = hours.Select(h => h.Key.Device).ToArray() });
            rollup.Parameters.Add(new() { Value = hours.Select(h => h.Key.Metric).ToArray() });
            rollup.Parameters.Add(new() { Value = hours.Select(h => h.Key.Bucket).ToArray() });
            rollup.Parameters.Add(new() { Value = hours.Select(h => h.Value.Min).ToArray() });
            rollup.Parameters.Add(new() { Value = hours.Select(h => h.Value.Max).ToArray() });
            rollup.Parameters.Add(new() { Value = hours.Select(h => h.Value.Sum).ToArray() });
            rollup.Parameters.Add(new() { Value = hours.Select(h => h.Value.Count).ToArray() });
            await rollup.ExecuteNonQueryAsync(cancellationToken);
        }
        var newest = _newest.OrderBy(n => n.Key.Device).ThenBy(n => n.Key.Metric, StringComparer.Ordinal).Select(n => n.Value).ToArray();
        await using var latest = new NpgsqlCommand("""
            INSERT INTO readings_latest AS l (home_id, device_id, metric, ts, value, unit)
            SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::timestamptz[], $5::float8[], $6::text[])
            ON CONFLICT (device_id, metric) DO UPDATE SET home_id = excluded.home_id, ts = excluded.ts, value = excluded.value, unit = excluded.unit
            WHERE l.ts < excluded.ts
            """, connection, transaction);
        latest.Parameters.Add(new() { Value = newest.Select(n => n.Home).ToArray() });
        latest.Parameters.Add(new() { Value = newest.Select(n => n.Reading.DeviceId).ToArray() });
        latest.Parameters.Add(new() { Value = newest.Select(n => n.Reading.Metric).ToArray() });
        latest.Parameters.Add(new() { Value = newest.Select(n => n.Reading.Timestamp.UtcDateTime).ToArray() });
        latest.Parameters.Add(new() { Value = newest.Select(n => n.Reading.Value).ToArray() });
        latest.Parameters.Add(new() { Value = newest.Select(n => n.Reading.Unit ?? "").ToArray() });
        await latest.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>One <see cref="ReadingsStored"/> per home, with its count and newest values.</summary>
    public IEnumerable<ReadingsStored> Stored() => _perHome.Select(home => new ReadingsStored(home.Key, home.Value,
        [.. _newest.Where(n => n.Value.Home == home.Key)
            .Select(n => new LatestReading(n.Key.Device, n.Key.Metric, n.Value.Reading.Value, n.Value.Reading.Unit ?? "", n.Value.Reading.Timestamp))]));
}
