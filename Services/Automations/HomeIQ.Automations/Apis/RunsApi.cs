using System.Text;
using System.Text.Json;
using HomeIQ.Automations.Infrastructure;
using HomeIQ.ServiceDefaults.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Npgsql;

namespace HomeIQ.Automations.Apis;

/// <summary>The run history: every run of a rule or scene, with its steps and their outcome.</summary>
public static class RunsApi
{
    private const int DefaultLimit = 50;
    private const int MaxLimit = 500;
    private const string Columns = "id, home_id, source, source_id, name, cause, status, reason, started_at, finished_at";

    public static RouteGroupBuilder MapRunsApi(this RouteGroupBuilder automations)
    {
        automations.MapGet("/runs", List).RequireAuthorization(HomePolicies.HomeMember);
        automations.MapGet("/runs/{id:guid}", Get).RequireAuthorization(HomePolicies.HomeMember);
        return automations;
    }

    /// <summary>The home's runs, newest first, optionally of one status, rule or scene.</summary>
    internal static async Task<Results<Ok<RunPage>, ValidationProblem>> List(Guid homeId, string? status, string? sourceId, string? limit, string? after,
        NpgsqlDataSource db, CancellationToken ct)
    {
        var errors = new RunsQuery();
        var statusName = errors.OneOf("status", status, RunsQuery.Statuses);
        var source = errors.OptionalGuid("sourceId", sourceId);
        var take = errors.Limit(limit, DefaultLimit, MaxLimit);
        var cursor = errors.TimeIdCursor(after);
        if (errors.Any)
        {
            return TypedResults.ValidationProblem(errors.Errors);
        }
        var sql = new StringBuilder($"SELECT {Columns} FROM runs WHERE home_id = $1 AND ($2::text IS NULL OR status = $2) AND ($3::uuid IS NULL OR source_id = $3)");
        var command = db.CreateCommand();
        await using var _ = command;
        command.Parameters.Add(Runs.P(homeId));
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)statusName ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)source ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Uuid });
        if (cursor is { } c)
        {
            sql.Append(" AND (started_at, id) < ($4, $5)");
            command.Parameters.Add(Runs.P(c.Time));
            command.Parameters.Add(Runs.P(c.Id));
        }
        sql.Append(" ORDER BY started_at DESC, id DESC LIMIT ").Append(take + 1);
        command.CommandText = sql.ToString();
        var runs = await ReadAsync(command, ct);
        string? next = null;
        if (runs.Count > take)
        {
            runs.RemoveAt(runs.Count - 1);
            next = RunsQuery.CursorOf(runs[^1]);
        }
        return TypedResults.Ok(new RunPage(runs, next));
    }

    /// <summary>One run with its steps (forward steps, then the compensating ones, each in the order they run).</summary>
    internal static async Task<Results<Ok<RunDto>, NotFound<ProblemDetails>>> Get(Guid homeId, Guid id, NpgsqlDataSource db, CancellationToken ct) =>
        await ReadOneAsync(db, homeId, id, ct) is { } run ? TypedResults.Ok(run) : RulesApi.NotFound("run");

    internal static async Task<RunDto?> ReadOneAsync(NpgsqlDataSource db, Guid homeId, Guid id, CancellationToken ct)
    {
        await using var command = Runs.Sql(db, $"SELECT {Columns} FROM runs WHERE home_id = $1 AND id = $2", homeId, id);
        if (await ReadAsync(command, ct) is not [var run])
        {
            return null;
        }
        await using var steps = Runs.Sql(db, """
            SELECT phase, position, device_id, action, parameters::text, status, reason, command_id, sent_at, completed_at
            FROM run_steps WHERE run_id = $1 ORDER BY phase, position
            """, id);
        var list = new List<StepDto>();
        await using var reader = await steps.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            DateTimeOffset? Time(int i) => reader.IsDBNull(i) ? null : RulesApi.Utc(reader.GetDateTime(i));
            list.Add(new StepDto(reader.GetString(0), reader.GetInt32(1), reader.GetGuid(2), reader.GetString(3),
                JsonDocument.Parse(reader.GetString(4)).RootElement.Clone(), reader.GetString(5), reader.IsDBNull(6) ? null : reader.GetString(6),
                reader.IsDBNull(7) ? null : reader.GetGuid(7), Time(8), Time(9)));
        }
        return run with { Steps = list };
    }

    private static async Task<List<RunDto>> ReadAsync(NpgsqlCommand command, CancellationToken ct)
    {
        var runs = new List<RunDto>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            runs.Add(new RunDto(reader.GetGuid(0), reader.GetGuid(1), reader.GetString(2), reader.GetGuid(3), reader.GetString(4), reader.GetString(5),
                reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetString(7), RulesApi.Utc(reader.GetDateTime(8)),
                reader.IsDBNull(9) ? null : RulesApi.Utc(reader.GetDateTime(9)), null));
        }
        return runs;
    }
}
