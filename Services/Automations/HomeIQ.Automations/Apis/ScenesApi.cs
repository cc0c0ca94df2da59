using System.Text.Json;
using HomeIQ.Automations.Domain;
using HomeIQ.Automations.Infrastructure;
using HomeIQ.ServiceDefaults.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Npgsql;

namespace HomeIQ.Automations.Apis;

/// <summary>A home's scenes (device commands run in order as a saga) and running one.</summary>
public static class ScenesApi
{
    public static RouteGroupBuilder MapScenesApi(this RouteGroupBuilder automations)
    {
        automations.MapGet("/scenes", List).RequireAuthorization(HomePolicies.HomeMember);
        automations.MapPost("/scenes", Create).RequireAuthorization(HomePolicies.HomeWriter);
        automations.MapGet("/scenes/{id:guid}", Get).RequireAuthorization(HomePolicies.HomeMember);
        automations.MapPut("/scenes/{id:guid}", Replace).RequireAuthorization(HomePolicies.HomeWriter);
        automations.MapDelete("/scenes/{id:guid}", Delete).RequireAuthorization(HomePolicies.HomeWriter);
        automations.MapPost("/scenes/{id:guid}/run", Run).RequireAuthorization(HomePolicies.HomeWriter);
        return automations;
    }

    internal static async Task<Ok<List<SceneDto>>> List(Guid homeId, NpgsqlDataSource db, CancellationToken ct) =>
        TypedResults.Ok(await ReadAsync(db, "WHERE home_id = $1 ORDER BY name, id", ct, homeId));

    internal static async Task<Results<Ok<SceneDto>, NotFound<ProblemDetails>>> Get(Guid homeId, Guid id, NpgsqlDataSource db, CancellationToken ct) =>
        await ReadAsync(db, "WHERE home_id = $1 AND id = $2", ct, homeId, id) is [var scene] ? TypedResults.Ok(scene) : RulesApi.NotFound("scene");

    internal static async Task<Results<Created<SceneDto>, ValidationProblem>> Create(Guid homeId, SceneRequest request, NpgsqlDataSource db, CancellationToken ct)
    {
        var errors = new DefinitionErrors();
        var steps = errors.Scene(request?.Name, request?.Steps);
        if (errors.Any)
        {
            return TypedResults.ValidationProblem(errors.Errors);
        }
        var id = Guid.CreateVersion7();
        await using var command = Runs.Sql(db, "INSERT INTO scenes (id, home_id, name, steps) VALUES ($1, $2, $3, $4::jsonb)",
            id, homeId, request!.Name!.Trim(), Serialize(steps));
        await command.ExecuteNonQueryAsync(ct);
        var scene = (await ReadAsync(db, "WHERE id = $1", ct, id))[0];
        return TypedResults.Created($"/api/v1/homes/{homeId}/automations/scenes/{id}", scene);
    }

    internal static async Task<Results<Ok<SceneDto>, ValidationProblem, NotFound<ProblemDetails>>> Replace(Guid homeId, Guid id, SceneRequest request,
        NpgsqlDataSource db, CancellationToken ct)
    {
        var errors = new DefinitionErrors();
        var steps = errors.Scene(request?.Name, request?.Steps);
        if (errors.Any)
        {
            return TypedResults.ValidationProblem(errors.Errors);
        }
        await using var command = Runs.Sql(db, "UPDATE scenes SET name = $3, steps = $4::jsonb, updated_at = now() WHERE home_id = $1 AND id = $2",
            homeId, id, request!.Name!.Trim(), Serialize(steps));
        return await command.ExecuteNonQueryAsync(ct) == 1 ? TypedResults.Ok((await ReadAsync(db, "WHERE id = $1", ct, id))[0]) : RulesApi.NotFound("scene");
    }

    internal static async Task<Results<NoContent, NotFound<ProblemDetails>>> Delete(Guid homeId, Guid id, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var command = Runs.Sql(db, "DELETE FROM scenes WHERE home_id = $1 AND id = $2", homeId, id);
        return await command.ExecuteNonQueryAsync(ct) == 1 ? TypedResults.NoContent() : RulesApi.NotFound("scene");
    }

    /// <summary>Starts the scene: its run is recorded and its first command sent before the 202; follow it at the Location.</summary>
    internal static async Task<Results<Accepted<RunDto>, NotFound<ProblemDetails>>> Run(Guid homeId, Guid id, NpgsqlDataSource db, Runs runs,
        System.Security.Claims.ClaimsPrincipal user, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        if (await RuleEngine.SceneStepsAsync(connection, transaction, homeId, id, ct) is not { } scene)
        {
            return RulesApi.NotFound("scene");
        }
        var by = user.FindFirst("name")?.Value ?? user.FindFirst("sub")?.Value ?? "a user";
        var runId = await runs.StartAsync(connection, transaction, homeId, "scene", id, scene.Name, $"run by {by}", scene.Steps, ct);
        await transaction.CommitAsync(ct);
        var run = await RunsApi.ReadOneAsync(db, homeId, runId, ct);
        return TypedResults.Accepted($"/api/v1/homes/{homeId}/automations/runs/{runId}", run);
    }

    private static string Serialize(IReadOnlyList<CommandAction> steps) =>
        JsonSerializer.Serialize(steps.Select(s => new ActionDefinition("command", s.DeviceId, s.Action, s.Parameters)), RulesApi.Stored);

    private static async Task<List<SceneDto>> ReadAsync(NpgsqlDataSource db, string where, CancellationToken ct, params object[] values)
    {
        await using var command = Runs.Sql(db, $"SELECT id, home_id, name, steps::text, created_at, updated_at FROM scenes {where}", values);
        var scenes = new List<SceneDto>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            scenes.Add(new SceneDto(reader.GetGuid(0), reader.GetGuid(1), reader.GetString(2),
                JsonSerializer.Deserialize<List<ActionDefinition>>(reader.GetString(3), RulesApi.Stored)!, RulesApi.Utc(reader.GetDateTime(4)),
                RulesApi.Utc(reader.GetDateTime(5))));
        }
        return scenes;
    }
}
