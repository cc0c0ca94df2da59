using HomeIQ.Devices.Infrastructure;
using HomeIQ.EventBus.Postgres;
using HomeIQ.ServiceDefaults.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Npgsql;

namespace HomeIQ.Devices.Apis;

/// <summary>A device of a home that has an external id (a Home Assistant <c>entity_id</c>), as the bridge maps it.</summary>
public sealed record ExternalDevice(Guid DeviceId, string ExternalId, string Name, string Kind, IReadOnlyList<Capability> Capabilities);

/// <summary>An entity to register as a device; the kind and capabilities are those of a normal registration.</summary>
public sealed record ExternalDeviceRequest(string? ExternalId, string? Name, string? Kind, IReadOnlyList<Capability?>? Capabilities);

/// <summary>Calls other services make with a service token: ingestion resolving a device to its home and capabilities.</summary>
public static class InternalApi
{
    public static IEndpointRouteBuilder MapInternalApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/internal/devices/{deviceId:guid}", LookupDevice).RequireAuthorization(HomePolicies.Internal);
        // Service-to-service only (403 to any user token, whatever the home): not part of the documented per-home API.
        var external = app.MapGroup("/api/v1/internal/homes/{homeId:guid}/devices/external").RequireAuthorization(HomePolicies.Internal).ExcludeFromDescription();
        external.MapGet("/", ListExternalDevices);
        external.MapPost("/", RegisterExternalDevice);
        return app;
    }

    internal static async Task<Results<Ok<DeviceLookup>, NotFound<ProblemDetails>>> LookupDevice(Guid deviceId, DeviceLookupCache lookups, CancellationToken ct) =>
        await lookups.FindAsync(deviceId, ct) is { } lookup
            ? TypedResults.Ok(lookup)
            : TypedResults.NotFound(new ProblemDetails { Title = "No such device", Status = 404 });

    internal static async Task<Ok<ExternalDevice[]>> ListExternalDevices(Guid homeId, NpgsqlDataSource db, CancellationToken ct) =>
        TypedResults.Ok(await ExternalDevices.ListAsync(db, homeId, ct));

    /// <summary>
    /// Registers an entity through the normal registration (so <c>device.registered</c> goes through the outbox);
    /// an external id the home already has answers 200 with the existing device instead of a second one.
    /// </summary>
    internal static async Task<Results<Created<ExternalDevice>, Ok<ExternalDevice>, ValidationProblem>> RegisterExternalDevice(
        Guid homeId, ExternalDeviceRequest request, NpgsqlDataSource db, Outbox outbox, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (DeviceRows.ValidExternalId(request.ExternalId, errors) is not { } externalId)
        {
            return TypedResults.ValidationProblem(errors.Count > 0 ? errors : new() { ["externalId"] = ["The external id (a Home Assistant entity_id) is required."] });
        }
        if (await ExternalDevices.FindAsync(db, homeId, externalId, ct) is { } existing)
        {
            return TypedResults.Ok(existing);
        }
        var registered = await DevicesApi.RegisterDevice(homeId, new DeviceRequest(request.Name, request.Kind, null, externalId, request.Capabilities), db, outbox, ct);
        switch (registered.Result)
        {
            case Created<DeviceDto> { Value: { } created }:
                return TypedResults.Created($"/api/v1/homes/{homeId}/devices/{created.Id}",
                    new ExternalDevice(created.Id, created.ExternalId!, created.Name, created.Kind, created.Capabilities));
            case ValidationProblem problem:
                return problem;
            default:
                // 409: a concurrent registration of the same entity won the unique index; answer with its device.
                return await ExternalDevices.FindAsync(db, homeId, externalId, ct) is { } winner
                    ? TypedResults.Ok(winner)
                    : throw new InvalidOperationException($"Registering {externalId} conflicted, yet no device of the home has it.");
        }
    }
}
