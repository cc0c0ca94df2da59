using System.Text.Json;
using System.Text.Json.Serialization;
using HomeIQ.Automations.Domain;
using HomeIQ.Automations.Infrastructure;
using HomeIQ.ServiceDefaults.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Npgsql;

namespace HomeIQ.Automations.Apis;

/// <summary>A home's rules: list, create, read, replace, delete. Owners and members write; guests read.</summary>
public static class RulesApi
{
    internal static readonly JsonSerializerOptions Stored = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    private const string Columns = "r.id, r.home_id, r.name, r.enabled, r.definition::text, s.next_due, r.created_at, r.updated_at";

    public static RouteGroupBuilder MapRulesApi(this RouteGroupBuilder automations)
    {
        automations.MapGet("/rules", List).RequireAuthorization(HomePolicies.HomeMember);
        automations.MapPost("/rules", Create).RequireAuthorization(HomePolicies.HomeWriter);
        automations.MapGet("/rules/{id:guid}", Get).RequireAuthorization(HomePolicies.HomeMember);
        automations.MapPut("/rules/{id:guid}", Replace).RequireAuthorization(HomePolicies.HomeWriter);
        automations.MapDelete("/rules/{id:guid}", Delete).RequireAuthorization(HomePolicies.HomeWriter);
        return automations;
    }

    internal static NotFound<ProblemDetails> NotFound(string what) => TypedResults.NotFound(new ProblemDetails { Title = $"No such {what}", Status = 404 });

    internal static async Task<Ok<List<RuleDto>>> List(Guid homeId, NpgsqlDataSource db, CancellationToken ct) =>
        TypedResults.Ok(await ReadAsync(db, "WHERE r.home_id = $1 ORDER BY r.name, r.id", ct, homeId));

    internal static async Task<Results<Ok<RuleDto>, NotFound<ProblemDetails>>> Get(Guid homeId, Guid id, NpgsqlDataSource db, CancellationToken ct) =>
        await ReadAsync(db, "WHERE r.home_id = $1 AND r.id = $2", ct, homeId, id) is [var rule] ? TypedResults.Ok(rule) : NotFound("rule");

    internal static async Task<Results<Created<RuleDto>, ValidationProblem>> Create(Guid homeId, RuleDefinition definition, NpgsqlDataSource db,
        TimeProvider clock, CancellationToken ct)
    {
        var id = Guid.CreateVersion7();
        var saved = await SaveAsync(homeId, id, definition, isNew: true, db, clock, ct);
        return saved.Rule is { } rule
            ? TypedResults.Created($"/api/v1/homes/{homeId}/automations/rules/{id}", rule)
            : TypedResults.ValidationProblem(saved.Errors);
    }

    internal static async Task<Results<Ok<RuleDto>, ValidationProblem, NotFound<ProblemDetails>>> Replace(Guid homeId, Guid id, RuleDefinition definition,
        NpgsqlDataSource db, TimeProvider clock, CancellationToken ct)
    {
        var saved = await SaveAsync(homeId, id, definition, isNew: false, db, clock, ct);
        return saved switch
        {
            { Rule: { } rule } => TypedResults.Ok(rule),
            { Errors.Count: > 0 } => TypedResults.ValidationProblem(saved.Errors),
            _ => NotFound("rule"),
        };
    }

    internal static async Task<Results<NoContent, NotFound<ProblemDetails>>> Delete(Guid homeId, Guid id, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var command = Runs.Sql(db, "DELETE FROM rules WHERE home_id = $1 AND id = $2", homeId, id);
        return await command.ExecuteNonQueryAsync(ct) == 1 ? TypedResults.NoContent() : NotFound("rule");
    }

    /// <summary>
    /// Checks and stores a rule. A replaced rule starts its trigger afresh (a pending duration is forgotten); a schedule rule gets its
    /// next time. Returns the stored rule, or the errors, or neither when the rule to replace does not exist.
    /// </summary>
    private static async Task<(RuleDto? Rule, Dictionary<string, string[]> Errors)> SaveAsync(Guid homeId, Guid id, RuleDefinition? definition, bool isNew,
        NpgsqlDataSource db, TimeProvider clock, CancellationToken ct)
    {
        var errors = new DefinitionErrors();
        var rule = errors.Rule(id, homeId, definition);
        await using var connection = await db.OpenConnectionAsync(ct);
        if (rule is not null)
        {
            foreach (var (scene, index) in rule.Actions.Select((a, i) => (a as SceneAction, i)).Where(x => x.Item1 is not null))
            {
                if (await RuleEngine.SceneStepsAsync(connection, null, homeId, scene!.SceneId, ct) is null)
                {
                    errors.Add($"actions[{index}].sceneId", "This home has no such scene.");
                }
            }
        }
        if (rule is null || errors.Any)
        {
            return (null, errors.Errors);
        }
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var json = JsonSerializer.Serialize(definition! with { Enabled = rule.Enabled, Name = rule.Name }, Stored);
        await using (var upsert = new NpgsqlCommand(isNew
                         ? "INSERT INTO rules (id, home_id, name, enabled, trigger_type, device_id, definition) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)"
                         : """
                           UPDATE rules SET name = $3, enabled = $4, trigger_type = $5, device_id = $6, definition = $7::jsonb, updated_at = now()
                           WHERE id = $1 AND home_id = $2
                           """, connection, transaction)
                     {
                         Parameters =
                         {
                             Runs.P(id), Runs.P(homeId), Runs.P(rule.Name), Runs.P(rule.Enabled), Runs.P(RuleEngine.TypeOf(rule.Trigger)),
                             Runs.Uuid(RuleEngine.DeviceOf(rule.Trigger)),
                             Runs.P(json),
                         },
                     })
        {
            if (await upsert.ExecuteNonQueryAsync(ct) == 0)
            {
                return (null, []);
            }
        }
        await using (var reset = new NpgsqlBatch(connection, transaction)
                     {
                         BatchCommands =
                         {
                             new("DELETE FROM rule_trackers WHERE rule_id = $1") { Parameters = { Runs.P(id) } },
                             new("DELETE FROM rule_schedules WHERE rule_id = $1") { Parameters = { Runs.P(id) } },
                         },
                     })
        {
            await reset.ExecuteNonQueryAsync(ct);
        }
        if (rule.Trigger is ScheduleTrigger schedule)
        {
            await Schedules.SetAsync(connection, transaction, id, schedule.Schedule.Next(clock.GetUtcNow()), ct);
        }
        await transaction.CommitAsync(ct);
        return (await ReadAsync(db, "WHERE r.id = $1", ct, id) is [var stored] ? stored : null, []);
    }

    private static async Task<List<RuleDto>> ReadAsync(NpgsqlDataSource db, string where, CancellationToken ct, params object[] values)
    {
        await using var command = Runs.Sql(db, $"SELECT {Columns} FROM rules r LEFT JOIN rule_schedules s ON s.rule_id = r.id {where}", values);
        var rules = new List<RuleDto>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var definition = JsonSerializer.Deserialize<RuleDefinition>(reader.GetString(4), Stored)!;
            rules.Add(new RuleDto(reader.GetGuid(0), reader.GetGuid(1), reader.GetString(2), reader.GetBoolean(3), definition.Trigger!, definition.Conditions ?? [],
                definition.Actions ?? [], reader.IsDBNull(5) ? null : Utc(reader.GetDateTime(5)), Utc(reader.GetDateTime(6)), Utc(reader.GetDateTime(7))));
        }
        return rules;
    }

    internal static DateTimeOffset Utc(DateTime time) => new(time, TimeSpan.Zero);
}
