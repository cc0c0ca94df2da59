using System.Security.Claims;
using System.Security.Cryptography;
using HomeIQ.Identity.Infrastructure;
using HomeIQ.ServiceDefaults.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.IdentityModel.Tokens;
using Npgsql;
using HomeIQ.Postgres;

namespace HomeIQ.Identity.Apis;

/// <summary>Homes, their members and roles, and their hub API keys.</summary>
public static class HomesApi
{
    public sealed record CreateHomeRequest(string? Name);
    public sealed record HomeDto(Guid Id, string Name, string Role);
    public sealed record HomeCreated(HomeDto Home, TokenResponse Tokens);
    public sealed record MemberDto(Guid UserId, string Email, string DisplayName, string Role);
    public sealed record AddMemberRequest(string? Email, string? Role);
    public sealed record CreateHubKeyRequest(string? Name);
    public sealed record HubKeyCreated(Guid Id, string Name, string Prefix, string Key);
    public sealed record HubKeyDto(Guid Id, string Name, string Prefix, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt);

    public static IEndpointRouteBuilder MapHomesApi(this IEndpointRouteBuilder app)
    {
        var homes = app.MapGroup("/api/v1/homes").RequireAuthorization();
        homes.MapPost("/", CreateHome);
        homes.MapGet("/", ListHomes);
        homes.MapGet("/{homeId:guid}/members", ListMembers).RequireAuthorization(HomePolicies.HomeMember);
        homes.MapPost("/{homeId:guid}/members", AddMember).RequireAuthorization(HomePolicies.HomeOwner);
        homes.MapDelete("/{homeId:guid}/members/{userId:guid}", RemoveMember).RequireAuthorization(HomePolicies.HomeOwner);
        homes.MapPost("/{homeId:guid}/hub-keys", CreateHubKey).RequireAuthorization(HomePolicies.HomeOwner);
        homes.MapGet("/{homeId:guid}/hub-keys", ListHubKeys).RequireAuthorization(HomePolicies.HomeOwner);
        homes.MapDelete("/{homeId:guid}/hub-keys/{keyId:guid}", RevokeHubKey).RequireAuthorization(HomePolicies.HomeOwner);
        return app;
    }

    private static string[]? NameProblem(string name) =>
        name.Length is 0 or > 100 ? ["A name of 1 to 100 characters is required."]
        : StoredText.HasControlCharacters(name) ? [StoredText.NoControlCharacters("name")]
        : null;

    private static Guid? UserId(ClaimsPrincipal user) => Guid.TryParse(user.GetUserId(), out var id) ? id : null;

    internal static async Task<Results<Created<HomeCreated>, ValidationProblem, ProblemHttpResult>> CreateHome(
        CreateHomeRequest request, ClaimsPrincipal user, NpgsqlDataSource db, TokenService tokens, CancellationToken ct)
    {
        if (UserId(user) is not { } userId)
        {
            return TypedResults.Problem(title: "Users only", detail: "A service token cannot own a home.", statusCode: 403);
        }
        var name = request.Name?.Trim() ?? "";
        if (NameProblem(name) is { } problem)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["name"] = problem });
        }
        var homeId = Guid.CreateVersion7();
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using (var batch = new NpgsqlBatch(connection, transaction))
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand("INSERT INTO homes (id, name) VALUES ($1, $2)") { Parameters = { new() { Value = homeId }, new() { Value = name } } });
            batch.BatchCommands.Add(new NpgsqlBatchCommand("INSERT INTO memberships (home_id, user_id, role) VALUES ($1, $2, 'owner')")
            { Parameters = { new() { Value = homeId }, new() { Value = userId } } });
            await batch.ExecuteNonQueryAsync(ct);
        }
        // The caller's next requests need the new home in their token: answer with a fresh access token.
        var access = await tokens.AccessTokenAsync(connection, transaction, userId, user.FindFirst("email")?.Value ?? "", user.FindFirst("name")?.Value ?? "", ct);
        await transaction.CommitAsync(ct);
        return TypedResults.Created($"/api/v1/homes/{homeId}", new HomeCreated(new HomeDto(homeId, name, "owner"), access));
    }

    internal static async Task<Ok<HomeDto[]>> ListHomes(ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        var result = new List<HomeDto>();
        if (UserId(user) is { } userId)
        {
            await using var select = db.CreateCommand("SELECT h.id, h.name, m.role FROM homes h JOIN memberships m ON m.home_id = h.id WHERE m.user_id = $1 ORDER BY h.name");
            select.Parameters.Add(new() { Value = userId });
            await using var reader = await select.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                result.Add(new HomeDto(reader.GetGuid(0), reader.GetString(1), reader.GetString(2)));
            }
        }
        return TypedResults.Ok(result.ToArray());
    }

    internal static async Task<Ok<MemberDto[]>> ListMembers(Guid homeId, NpgsqlDataSource db, CancellationToken ct)
    {
        var result = new List<MemberDto>();
        await using var select = db.CreateCommand("SELECT u.id, u.email, u.display_name, m.role FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.home_id = $1 ORDER BY u.email");
        select.Parameters.Add(new() { Value = homeId });
        await using var reader = await select.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            result.Add(new MemberDto(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetString(3)));
        }
        return TypedResults.Ok(result.ToArray());
    }

    internal static async Task<Results<Created<MemberDto>, ValidationProblem, NotFound<ProblemDetails>, Conflict<ProblemDetails>>> AddMember(
        Guid homeId, AddMemberRequest request, NpgsqlDataSource db, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var role = request.Role is "member" or "guest" ? request.Role : null;
        if (role is null)
        {
            errors["role"] = ["The role is 'member' or 'guest'; a home has one owner."];
        }
        var email = request.Email?.Trim().ToLowerInvariant() ?? "";
        if (email.Length == 0)
        {
            errors["email"] = ["The email of a registered user is required."];
        }
        else if (StoredText.HasControlCharacters(email))
        {
            errors["email"] = [StoredText.NoControlCharacters("email")];
        }
        if (role is null || errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        await using var select = db.CreateCommand("SELECT id, email, display_name FROM users WHERE email = $1");
        select.Parameters.Add(new() { Value = email });
        MemberDto? member = null;
        await using (var reader = await select.ExecuteReaderAsync(ct))
        {
            if (await reader.ReadAsync(ct))
            {
                member = new MemberDto(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), role);
            }
        }
        if (member is null)
        {
            return TypedResults.NotFound(new ProblemDetails { Title = "No such user", Detail = "Nobody is registered with that email.", Status = 404 });
        }
        await using var insert = db.CreateCommand("INSERT INTO memberships (home_id, user_id, role) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING");
        insert.Parameters.Add(new() { Value = homeId });
        insert.Parameters.Add(new() { Value = member.UserId });
        insert.Parameters.Add(new() { Value = role });
        return await insert.ExecuteNonQueryAsync(ct) == 0
            ? TypedResults.Conflict(new ProblemDetails { Title = "Already a member", Status = 409 })
            : TypedResults.Created($"/api/v1/homes/{homeId}/members/{member.UserId}", member);
    }

    internal static async Task<Results<NoContent, NotFound<ProblemDetails>, Conflict<ProblemDetails>>> RemoveMember(Guid homeId, Guid userId, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var delete = db.CreateCommand("DELETE FROM memberships WHERE home_id = $1 AND user_id = $2 AND role <> 'owner'");
        delete.Parameters.Add(new() { Value = homeId });
        delete.Parameters.Add(new() { Value = userId });
        if (await delete.ExecuteNonQueryAsync(ct) > 0)
        {
            return TypedResults.NoContent();
        }
        await using var owner = db.CreateCommand("SELECT 1 FROM memberships WHERE home_id = $1 AND user_id = $2");
        owner.Parameters.Add(new() { Value = homeId });
        owner.Parameters.Add(new() { Value = userId });
        return await owner.ExecuteScalarAsync(ct) is null
            ? TypedResults.NotFound(new ProblemDetails { Title = "Not a member", Status = 404 })
            : TypedResults.Conflict(new ProblemDetails { Title = "The owner cannot be removed", Status = 409 });
    }

    internal static async Task<Results<Created<HubKeyCreated>, ValidationProblem>> CreateHubKey(Guid homeId, CreateHubKeyRequest request, NpgsqlDataSource db, CancellationToken ct)
    {
        var name = request.Name?.Trim() ?? "";
        if (NameProblem(name) is { } problem)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["name"] = problem });
        }
        // Shown once, stored only as a hash: a database leak does not leak working keys.
        var key = "hiq_" + Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        var id = Guid.CreateVersion7();
        await using var insert = db.CreateCommand("INSERT INTO hub_keys (id, home_id, name, key_hash, prefix) VALUES ($1, $2, $3, $4, $5)");
        insert.Parameters.Add(new() { Value = id });
        insert.Parameters.Add(new() { Value = homeId });
        insert.Parameters.Add(new() { Value = name });
        insert.Parameters.Add(new() { Value = TokenService.Hash(key) });
        insert.Parameters.Add(new() { Value = key[..10] });
        await insert.ExecuteNonQueryAsync(ct);
        return TypedResults.Created($"/api/v1/homes/{homeId}/hub-keys/{id}", new HubKeyCreated(id, name, key[..10], key));
    }

    internal static async Task<Ok<HubKeyDto[]>> ListHubKeys(Guid homeId, NpgsqlDataSource db, CancellationToken ct)
    {
        var result = new List<HubKeyDto>();
        await using var select = db.CreateCommand("SELECT id, name, prefix, created_at, revoked_at FROM hub_keys WHERE home_id = $1 ORDER BY created_at");
        select.Parameters.Add(new() { Value = homeId });
        await using var reader = await select.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            result.Add(new HubKeyDto(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3),
                reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4)));
        }
        return TypedResults.Ok(result.ToArray());
    }

    internal static async Task<Results<NoContent, NotFound<ProblemDetails>>> RevokeHubKey(Guid homeId, Guid keyId, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var revoke = db.CreateCommand("UPDATE hub_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 AND home_id = $2");
        revoke.Parameters.Add(new() { Value = keyId });
        revoke.Parameters.Add(new() { Value = homeId });
        return await revoke.ExecuteNonQueryAsync(ct) > 0
            ? TypedResults.NoContent()
            : TypedResults.NotFound(new ProblemDetails { Title = "No such hub key", Status = 404 });
    }
}
