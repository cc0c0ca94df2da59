using HomeIQ.Identity.Infrastructure;
using HomeIQ.ServiceDefaults.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Npgsql;

namespace HomeIQ.Identity.Apis;

/// <summary>Calls other services make with a service token: resolving a hub API key to its home, and listing a home's members.</summary>
public static class InternalApi
{
    public sealed record ValidateHubKeyRequest(string? Key);
    public sealed record HubKeyOwner(Guid HomeId, Guid KeyId);
    public sealed record HomeMember(Guid UserId, string Role);

    public static IEndpointRouteBuilder MapInternalApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/internal/hub-keys/validate", ValidateHubKey).RequireAuthorization(HomePolicies.Internal);
        app.MapGet("/api/v1/internal/homes/{homeId:guid}/members", ListMembers).RequireAuthorization(HomePolicies.Internal);
        return app;
    }

    internal static async Task<Results<Ok<HubKeyOwner>, NotFound<ProblemDetails>>> ValidateHubKey(ValidateHubKeyRequest request, NpgsqlDataSource db, CancellationToken ct)
    {
        var unknown = TypedResults.NotFound(new ProblemDetails { Title = "Unknown or revoked hub key", Status = 404 });
        if (request.Key is not { Length: > 4 and <= 200 } key || !key.StartsWith("hiq_", StringComparison.Ordinal))
        {
            return unknown;
        }
        await using var select = db.CreateCommand("SELECT home_id, id FROM hub_keys WHERE key_hash = $1 AND revoked_at IS NULL");
        select.Parameters.Add(new() { Value = TokenService.Hash(key) });
        await using var reader = await select.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? TypedResults.Ok(new HubKeyOwner(reader.GetGuid(0), reader.GetGuid(1))) : unknown;
    }

    /// <summary>Who is in a home and with which role (Notifications fans a home's events out to them); an unknown home has none.</summary>
    internal static async Task<Ok<HomeMember[]>> ListMembers(Guid homeId, NpgsqlDataSource db, CancellationToken ct)
    {
        var members = new List<HomeMember>();
        await using var select = db.CreateCommand("SELECT user_id, role FROM memberships WHERE home_id = $1 ORDER BY user_id");
        select.Parameters.Add(new() { Value = homeId });
        await using var reader = await select.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            members.Add(new HomeMember(reader.GetGuid(0), reader.GetString(1)));
        }
        return TypedResults.Ok(members.ToArray());
    }
}
