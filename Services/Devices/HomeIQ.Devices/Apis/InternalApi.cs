using HomeIQ.Devices.Infrastructure;
using HomeIQ.ServiceDefaults.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace HomeIQ.Devices.Apis;

/// <summary>Calls other services make with a service token: ingestion resolving a device to its home and capabilities.</summary>
public static class InternalApi
{
    public static IEndpointRouteBuilder MapInternalApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/internal/devices/{deviceId:guid}", LookupDevice).RequireAuthorization(HomePolicies.Internal);
        return app;
    }

    internal static async Task<Results<Ok<DeviceLookup>, NotFound<ProblemDetails>>> LookupDevice(Guid deviceId, DeviceLookupCache lookups, CancellationToken ct) =>
        await lookups.FindAsync(deviceId, ct) is { } lookup
            ? TypedResults.Ok(lookup)
            : TypedResults.NotFound(new ProblemDetails { Title = "No such device", Status = 404 });
}
