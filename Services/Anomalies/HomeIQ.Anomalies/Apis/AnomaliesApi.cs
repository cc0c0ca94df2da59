using System.Security.Claims;
using System.Text;
using HomeIQ.Anomalies.Infrastructure;
using HomeIQ.ServiceDefaults.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Npgsql;

namespace HomeIQ.Anomalies.Apis;

/// <summary>A home's anomalies: list and filter, read one, acknowledge.</summary>
public static class AnomaliesApi
{
    private const int DefaultLimit = 50;
    private const int MaxLimit = 500;
    private static readonly string[] Statuses = ["open", "acknowledged", "resolved"];

    private const string Columns = """
        id, home_id, device_id, metric, kind, status, severity, description, value, expected_low, expected_high, detected_at,
        acknowledged_at, acknowledged_by, resolved_at
        """;

    public static IEndpointRouteBuilder MapAnomaliesApi(this IEndpointRouteBuilder app)
    {
        var anomalies = app.MapGroup("/api/v1/homes/{homeId:guid}/anomalies").WithTags("Anomalies");
        anomalies.MapGet("/", List).RequireAuthorization(HomePolicies.HomeMember);
        anomalies.MapGet("/{id:guid}", Get).RequireAuthorization(HomePolicies.HomeMember);
        anomalies.MapPost("/{id:guid}/acknowledge", Acknowledge).RequireAuthorization(HomePolicies.HomeWriter);
        return app;
    }

    private static NotFound<ProblemDetails> NoSuchAnomaly() => TypedResults.NotFound(new ProblemDetails { Title = "No such anomaly", Status = 404 });

    private static Conflict<ProblemDetails> AlreadyResolved() => TypedResults.Conflict(new ProblemDetails
    {
        Title = "Already resolved", Status = 409, Detail = "The anomaly resolved by itself; there is nothing left to acknowledge.",
    });

    private static NpgsqlParameter Param(object? value) => new() { Value = value ?? DBNull.Value };

    /// <summary>The home's anomalies, newest first, filtered by status, kind, device, metric and detection time [from, to).</summary>
    internal static async Task<Results<Ok<AnomalyPage>, ValidationProblem>> List(Guid homeId, string? status, string? kind, string? deviceId, string? metric,
        string? from, string? to, string? limit, string? after, NpgsqlDataSource db, CancellationToken ct)
    {
        var errors = new AnomaliesQuery();
        var statusName = errors.OneOf("status", status, Statuses);
        var kindName = errors.OneOf("kind", kind, KindNames.All);
        var device = errors.OptionalGuid("deviceId", deviceId);
        var metricName = errors.OptionalMetric(metric);
        var start = errors.OptionalTime("from", from);
        var end = errors.OptionalTime("to", to);
        var take = errors.Limit(limit, DefaultLimit, MaxLimit);
        var cursor = errors.TimeIdCursor(after);
        if (start > end)
        {
            errors.Add("from", "'from' must not be after 'to'.");
        }
        if (errors.Any)
        {
            return TypedResults.ValidationProblem(errors.Errors);
        }
        var sql = new StringBuilder($"SELECT {Columns} FROM anomalies WHERE home_id = $1");
        var parameters = new List<NpgsqlParameter> { Param(homeId) };
        // Adds a condition on given parameters; a filter that was not given (its first value null) adds nothing.
        void Where(string condition, params object?[] values)
        {
            if (values[0] is null)
            {
                return;
            }
            foreach (var value in values)
            {
                parameters.Add(Param(value));
            }
            sql.Append(" AND ").Append(string.Format(System.Globalization.CultureInfo.InvariantCulture, condition,
                [.. Enumerable.Range(parameters.Count - values.Length + 1, values.Length).Select(i => (object)("$" + i))]));
        }
        Where("status = {0}", statusName);
        Where("kind = {0}", kindName);
        Where("device_id = {0}", device);
        Where("metric = {0}", metricName);
        Where("detected_at >= {0}", start?.UtcDateTime);
        Where("detected_at < {0}", end?.UtcDateTime);
        Where("(detected_at, id) < ({0}, {1})", cursor?.Time, cursor?.Id);
        parameters.Add(Param(take + 1));
        sql.Append(" ORDER BY detected_at DESC, id DESC LIMIT $").Append(parameters.Count);

        await using var connection = await db.OpenConnectionAsync(ct);
        await using var command = new NpgsqlCommand(sql.ToString(), connection);
        command.Parameters.AddRange(parameters.ToArray());
        var rows = await ReadAsync(command, ct);
        string? next = null;
        if (rows.Count > take)
        {
            rows.RemoveAt(rows.Count - 1);
            next = AnomaliesQuery.CursorOf(rows[^1]);
        }
        return TypedResults.Ok(new AnomalyPage(rows, next));
    }

    /// <summary>One anomaly of the home.</summary>
    internal static async Task<Results<Ok<AnomalyDto>, NotFound<ProblemDetails>>> Get(Guid homeId, Guid id, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var command = new NpgsqlCommand($"SELECT {Columns} FROM anomalies WHERE home_id = $1 AND id = $2", connection)
        {
            Parameters = { Param(homeId), Param(id) },
        };
        return (await ReadAsync(command, ct)) is [var anomaly] ? TypedResults.Ok(anomaly) : NoSuchAnomaly();
    }

    /// <summary>
    /// Marks an open anomaly as seen by the caller (owner or member); acknowledging it again changes nothing. It still resolves by
    /// itself when the sensor recovers; a resolved anomaly cannot be acknowledged (409).
    /// </summary>
    internal static async Task<Results<Ok<AnomalyDto>, NotFound<ProblemDetails>, Conflict<ProblemDetails>>> Acknowledge(
        Guid homeId, Guid id, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        var by = user.FindFirstValue("sub") ?? user.FindFirstValue(ClaimTypes.NameIdentifier) ?? user.Identity?.Name;
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var command = new NpgsqlCommand(
            $"""
             WITH ack AS (
                 UPDATE anomalies SET status = 'acknowledged', acknowledged_at = now(), acknowledged_by = $3
                 WHERE home_id = $1 AND id = $2 AND status = 'open' RETURNING {Columns})
             SELECT {Columns} FROM ack
             UNION ALL
             SELECT {Columns} FROM anomalies WHERE home_id = $1 AND id = $2 AND NOT EXISTS (SELECT 1 FROM ack)
             """, connection) { Parameters = { Param(homeId), Param(id), Param(by) } };
        return (await ReadAsync(command, ct)) switch
        {
            [{ Status: "resolved" }] => AlreadyResolved(),
            [var anomaly] => TypedResults.Ok(anomaly),
            _ => NoSuchAnomaly(),
        };
    }

    private static async Task<List<AnomalyDto>> ReadAsync(NpgsqlCommand command, CancellationToken ct)
    {
        var rows = new List<AnomalyDto>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            DateTimeOffset? Time(int i) => reader.IsDBNull(i) ? null : new DateTimeOffset(reader.GetDateTime(i), TimeSpan.Zero);
            double? Number(int i) => reader.IsDBNull(i) ? null : reader.GetDouble(i);
            rows.Add(new AnomalyDto(reader.GetGuid(0), reader.GetGuid(1), reader.GetGuid(2), reader.GetString(3), reader.GetString(4), reader.GetString(5),
                reader.GetString(6), reader.GetString(7), Number(8), Number(9), Number(10), Time(11)!.Value, Time(12),
                reader.IsDBNull(13) ? null : reader.GetString(13), Time(14)));
        }
        return rows;
    }
}
