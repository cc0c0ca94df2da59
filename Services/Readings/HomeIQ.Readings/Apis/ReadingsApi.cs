using HomeIQ.Contracts;
using HomeIQ.Readings.Infrastructure;
using HomeIQ.ServiceDefaults.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace HomeIQ.Readings.Apis;

/// <summary>Raw ranges, latest values and downsampled aggregates of a home's readings.</summary>
public static class ReadingsApi
{
    private const int DefaultLimit = 1000;
    private const int MaxLimit = 10000;
    private static readonly TimeSpan MaxRawRange = TimeSpan.FromDays(31);

    /// <summary>A bucket width, the widest range it may cover, the default range, and whether the 1-hour rollup can answer it.</summary>
    private sealed record BucketSize(TimeSpan Width, TimeSpan MaxRange, TimeSpan DefaultRange, bool FromRollup);

    private static readonly Dictionary<string, BucketSize> Buckets = new(StringComparer.Ordinal)
    {
        ["1m"] = new(TimeSpan.FromMinutes(1), TimeSpan.FromDays(2), TimeSpan.FromHours(1), false),
        ["5m"] = new(TimeSpan.FromMinutes(5), TimeSpan.FromDays(7), TimeSpan.FromDays(1), false),
        ["1h"] = new(TimeSpan.FromHours(1), TimeSpan.FromDays(92), TimeSpan.FromDays(7), true),
        ["1d"] = new(TimeSpan.FromDays(1), TimeSpan.FromDays(3660), TimeSpan.FromDays(30), true),
    };

    public static IEndpointRouteBuilder MapReadingsApi(this IEndpointRouteBuilder app)
    {
        var readings = app.MapGroup("/api/v1/homes/{homeId:guid}/readings").RequireAuthorization(HomePolicies.HomeMember);
        readings.MapGet("/raw", GetRaw);
        readings.MapGet("/latest", GetLatest);
        readings.MapGet("/aggregate", GetAggregate);
        return app;
    }

    private static NpgsqlParameter Param(object? value) => new() { Value = value ?? DBNull.Value };

    /// <summary>Readings in [from, to) (default: the last 24 hours), oldest first, optionally of one device and metric.</summary>
    internal static async Task<Results<Ok<RawPage>, ValidationProblem>> GetRaw(
        Guid homeId, string? deviceId, string? metric, string? from, string? to, string? limit, string? after, NpgsqlDataSource db, CancellationToken ct)
    {
        var errors = new ReadingsQuery();
        var device = errors.OptionalGuid("deviceId", deviceId);
        var metricName = errors.OptionalMetric(metric);
        var end = errors.OptionalTime("to", to) ?? DateTimeOffset.UtcNow;
        var start = errors.OptionalTime("from", from) ?? end - TimeSpan.FromDays(1);
        var take = errors.Limit(limit, DefaultLimit, MaxLimit);
        var cursor = errors.Cursor(after);
        CheckRange(errors, start, end, MaxRawRange);
        if (errors.Any)
        {
            return TypedResults.ValidationProblem(errors.Errors);
        }
        var sql = new System.Text.StringBuilder("SELECT device_id, metric, ts, value, unit, seq FROM readings WHERE home_id = $1 AND ts >= $2 AND ts < $3");
        var parameters = new List<NpgsqlParameter> { Param(homeId), Param(start.UtcDateTime), Param(end.UtcDateTime) };
        if (device is { } d)
        {
            parameters.Add(Param(d));
            sql.Append(" AND device_id = $").Append(parameters.Count);
        }
        if (metricName is not null)
        {
            parameters.Add(Param(metricName));
            sql.Append(" AND metric = $").Append(parameters.Count);
        }
        if (cursor is { } c)
        {
            parameters.AddRange([Param(c.Ts.UtcDateTime), Param(c.DeviceId), Param(c.Metric)]);
            sql.Append(" AND (ts, device_id, metric) > ($").Append(parameters.Count - 2).Append(", $").Append(parameters.Count - 1)
                .Append(", $").Append(parameters.Count).Append(')');
        }
        parameters.Add(Param(take + 1));
        sql.Append(" ORDER BY ts, device_id, metric LIMIT $").Append(parameters.Count);

        await using var connection = await db.OpenConnectionAsync(ct);
        await using var command = new NpgsqlCommand(sql.ToString(), connection);
        command.Parameters.AddRange(parameters.ToArray());
        var rows = new List<RawReading>(Math.Min(take + 1, 1024));
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                rows.Add(new RawReading(reader.GetGuid(0), reader.GetString(1), new DateTimeOffset(reader.GetDateTime(2), TimeSpan.Zero), reader.GetDouble(3),
                    reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetInt64(5)));
            }
        }
        string? next = null;
        if (rows.Count > take)
        {
            rows.RemoveAt(rows.Count - 1);
            next = ReadingsQuery.CursorOf(rows[^1]);
        }
        return TypedResults.Ok(new RawPage(homeId, start, end, rows, next));
    }

    /// <summary>The latest stored value of every device metric of the home (or of one device).</summary>
    internal static async Task<Results<Ok<LatestPage>, ValidationProblem>> GetLatest(Guid homeId, string? deviceId, NpgsqlDataSource db, CancellationToken ct)
    {
        var errors = new ReadingsQuery();
        var device = errors.OptionalGuid("deviceId", deviceId);
        if (errors.Any)
        {
            return TypedResults.ValidationProblem(errors.Errors);
        }
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var command = new NpgsqlCommand(
            "SELECT device_id, metric, value, unit, ts FROM readings_latest WHERE home_id = $1 AND ($2::uuid IS NULL OR device_id = $2) ORDER BY device_id, metric",
            connection) { Parameters = { Param(homeId), Param(device) } };
        var rows = new List<LatestReading>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            rows.Add(new LatestReading(reader.GetGuid(0), reader.GetString(1), reader.GetDouble(2), reader.GetString(3), new DateTimeOffset(reader.GetDateTime(4), TimeSpan.Zero)));
        }
        return TypedResults.Ok(new LatestPage(homeId, rows));
    }

    /// <summary>
    /// Min, max, avg and count per bucket (1m, 5m, 1h, 1d, aligned to UTC) of one device metric; from is rounded down and to up to
    /// whole buckets. 1h and 1d read the exact 1-hour rollup, which outlives raw retention.
    /// </summary>
    internal static async Task<Results<Ok<AggregatePage>, ValidationProblem>> GetAggregate(
        Guid homeId, string? deviceId, string? metric, string? bucket, string? from, string? to, NpgsqlDataSource db, CancellationToken ct)
    {
        var errors = new ReadingsQuery();
        var device = errors.OptionalGuid("deviceId", deviceId);
        if (deviceId is null)
        {
            errors.Add("deviceId", "'deviceId' is required.");
        }
        var metricName = errors.OptionalMetric(metric);
        if (metric is null)
        {
            errors.Add("metric", "'metric' is required.");
        }
        if (bucket is null || !Buckets.TryGetValue(bucket, out var size))
        {
            errors.Add("bucket", "'bucket' must be one of 1m, 5m, 1h, 1d.");
            size = Buckets["1h"];
        }
        var end = errors.OptionalTime("to", to) ?? DateTimeOffset.UtcNow;
        var start = errors.OptionalTime("from", from) ?? end - size.DefaultRange;
        CheckRange(errors, start, end, size.MaxRange);
        if (errors.Any)
        {
            return TypedResults.ValidationProblem(errors.Errors);
        }
        var first = Floor(start, size.Width);
        var last = Floor(end, size.Width);
        if (last < end)
        {
            last += size.Width;
        }
        var sql = size.FromRollup
            ? """
              SELECT date_bin($5, bucket, $6) AS b, min(min), max(max), sum(sum) / sum(count), sum(count)::bigint
              FROM readings_1h WHERE home_id = $1 AND device_id = $2 AND metric = $3 AND bucket >= $4 AND bucket < $7
              GROUP BY b ORDER BY b
              """
            : """
              SELECT date_bin($5, ts, $6) AS b, min(value), max(value), avg(value), count(*)
              FROM readings WHERE home_id = $1 AND device_id = $2 AND metric = $3 AND ts >= $4 AND ts < $7
              GROUP BY b ORDER BY b
              """;
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var command = new NpgsqlCommand(sql, connection)
        {
            Parameters =
            {
                Param(homeId), Param(device), Param(metricName), Param(first.UtcDateTime), Param(size.Width), Param(ReadingsSchema.Origin), Param(last.UtcDateTime),
            },
        };
        var buckets = new List<AggregateBucket>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            buckets.Add(new AggregateBucket(new DateTimeOffset(reader.GetDateTime(0), TimeSpan.Zero), reader.GetDouble(1), reader.GetDouble(2), reader.GetDouble(3),
                reader.GetInt64(4)));
        }
        return TypedResults.Ok(new AggregatePage(homeId, device!.Value, metricName!, bucket!, first, last, buckets));
    }

    private static void CheckRange(ReadingsQuery errors, DateTimeOffset start, DateTimeOffset end, TimeSpan max)
    {
        if (errors.Any)
        {
            return;
        }
        if (start > end)
        {
            errors.Add("from", "'from' must not be after 'to'.");
        }
        else if (end - start > max)
        {
            errors.Add("to", $"The range from 'from' to 'to' may cover at most {max.TotalDays:0.##} days here.");
        }
    }

    private static DateTimeOffset Floor(DateTimeOffset time, TimeSpan width)
    {
        var origin = new DateTimeOffset(ReadingsSchema.Origin);
        var offset = (time - origin).Ticks;
        var floored = offset - (((offset % width.Ticks) + width.Ticks) % width.Ticks);
        return origin + TimeSpan.FromTicks(floored);
    }
}
