using HomeIQ.Identity.Infrastructure;
using HomeIQ.ServiceDefaults.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Npgsql;

namespace HomeIQ.Identity.Apis;

/// <summary>Calls other services make with a service token: resolving a hub API key to its home.</summary>
public static class InternalApi
{
    public sealed record ValidateHubKeyRequest(string? Key);
    public sealed record HubKeyOwner(Guid HomeId, Guid KeyId);

    public static IEndpointRouteBuilder MapInternalApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/internal/hub-keys/validate", ValidateHubKey).RequireAuthorization(HomePolicies.Internal);
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
}
