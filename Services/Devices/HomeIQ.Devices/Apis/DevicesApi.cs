using System.Text.Json;
using HomeIQ.Contracts;
using HomeIQ.Devices.Infrastructure;
using HomeIQ.EventBus.Postgres;
using HomeIQ.ServiceDefaults.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Npgsql;
using NpgsqlTypes;

namespace HomeIQ.Devices.Apis;

/// <summary>The device registry of a home, and its last-state view.</summary>
public static class DevicesApi
{
    public static IEndpointRouteBuilder MapDevicesApi(this IEndpointRouteBuilder app)
    {
        var devices = app.MapGroup("/api/v1/homes/{homeId:guid}/devices");
        devices.MapPost("/", RegisterDevice).RequireAuthorization(HomePolicies.HomeWriter);
        devices.MapGet("/", ListDevices).RequireAuthorization(HomePolicies.HomeMember);
        devices.MapGet("/{deviceId:guid}", GetDevice).RequireAuthorization(HomePolicies.HomeMember);
        devices.MapPut("/{deviceId:guid}", UpdateDevice).RequireAuthorization(HomePolicies.HomeWriter);
        devices.MapDelete("/{deviceId:guid}", DeleteDevice).RequireAuthorization(HomePolicies.HomeWriter);
        devices.MapPost("/state/rebuild", RebuildState).RequireAuthorization(HomePolicies.HomeWriter);
        return app;
    }

    private static NotFound<ProblemDetails> NoSuchDevice() => TypedResults.NotFound(new ProblemDetails { Title = "No such device", Status = 404 });

    private static Conflict<ProblemDetails> ExternalIdTaken() => TypedResults.Conflict(new ProblemDetails
    {
        Title = "External id in use", Detail = "Another device of this home has that external id.", Status = 409,
    });

    private static NpgsqlParameter Param(object? value) => new() { Value = value ?? DBNull.Value };

    internal static async Task<Results<Created<DeviceDto>, ValidationProblem, Conflict<ProblemDetails>>> RegisterDevice(
        Guid homeId, DeviceRequest request, NpgsqlDataSource db, Outbox outbox, CancellationToken ct)
    {
        var (device, errors) = DeviceRows.Validate(request);
        if (device is null)
        {
            return TypedResults.ValidationProblem(errors);
        }
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        if (device.RoomId is { } roomId && !await DeviceRows.RoomInHomeAsync(connection, transaction, homeId, roomId, ct))
        {
            return TypedResults.ValidationProblem(DeviceRows.UnknownRoom());
        }
        DeviceDto created;
        try
        {
            await using var insert = new NpgsqlCommand(
                $"INSERT INTO devices (id, home_id, room_id, name, kind, external_id, capabilities) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {DeviceRows.Columns}",
                connection, transaction)
            {
                Parameters =
                {
                    Param(Guid.CreateVersion7()), Param(homeId), Param(device.RoomId), Param(device.Name), Param(device.Kind), Param(device.ExternalId),
                    new() { Value = JsonSerializer.Serialize(device.Capabilities, DeviceRows.Json), NpgsqlDbType = NpgsqlDbType.Jsonb },
                },
            };
            await using var reader = await insert.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            created = DeviceRows.Read(reader);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            return ExternalIdTaken();
        }
        await outbox.AddAsync(connection, transaction,
            new DeviceRegistered(homeId, created.Id, created.RoomId, created.Name, created.Kind, created.ExternalId), ct);
        await transaction.CommitAsync(ct);
        return TypedResults.Created($"/api/v1/homes/{homeId}/devices/{created.Id}", created);
    }

    internal static async Task<Results<Ok<DevicePage>, ValidationProblem>> ListDevices(
        Guid homeId, Guid? roomId, string? kind, int? limit, int? offset, NpgsqlDataSource db, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (limit is < 1 or > 200)
        {
            errors["limit"] = ["The limit is 1 to 200."];
        }
        if (offset is < 0)
        {
            errors["offset"] = ["The offset is 0 or more."];
        }
        if (kind is not null && !DeviceRows.Kinds.Contains(kind, StringComparer.Ordinal))
        {
            errors["kind"] = [$"The kind is one of {string.Join(", ", DeviceRows.Kinds)}."];
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        const string Filter = "home_id = $1 AND ($2::uuid IS NULL OR room_id = $2) AND ($3::text IS NULL OR kind = $3)";
        await using var batch = db.CreateBatch();
        batch.BatchCommands.Add(new NpgsqlBatchCommand($"SELECT count(*) FROM devices WHERE {Filter}")
        {
            Parameters = { Param(homeId), Param(roomId), Param(kind) },
        });
        batch.BatchCommands.Add(new NpgsqlBatchCommand($"SELECT {DeviceRows.Columns} FROM devices WHERE {Filter} ORDER BY created_at, id LIMIT $4 OFFSET $5")
        {
            Parameters = { Param(homeId), Param(roomId), Param(kind), Param(limit ?? 50), Param(offset ?? 0) },
        });
        await using var reader = await batch.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        var total = reader.GetInt64(0);
        await reader.NextResultAsync(ct);
        var items = new List<DeviceDto>();
        while (await reader.ReadAsync(ct))
        {
            items.Add(DeviceRows.Read(reader));
        }
        return TypedResults.Ok(new DevicePage(items, total));
    }

    internal static async Task<Results<Ok<DeviceDto>, NotFound<ProblemDetails>>> GetDevice(
        Guid homeId, Guid deviceId, NpgsqlDataSource db, DeviceStateView view, CancellationToken ct)
    {
        DeviceDto device;
        await using (var select = db.CreateCommand($"SELECT {DeviceRows.Columns} FROM devices WHERE id = $1 AND home_id = $2"))
        {
            select.Parameters.Add(Param(deviceId));
            select.Parameters.Add(Param(homeId));
            await using var reader = await select.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct))
            {
                return NoSuchDevice();
            }
            device = DeviceRows.Read(reader);
        }
        return TypedResults.Ok(device with { State = await view.GetAsync(deviceId, ct) });
    }

    internal static async Task<Results<Ok<DeviceDto>, ValidationProblem, NotFound<ProblemDetails>, Conflict<ProblemDetails>>> UpdateDevice(
        Guid homeId, Guid deviceId, DeviceRequest request, NpgsqlDataSource db, Outbox outbox, DeviceLookupCache lookups, CancellationToken ct)
    {
        var (device, errors) = DeviceRows.Validate(request);
        if (device is null)
        {
            return TypedResults.ValidationProblem(errors);
        }
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        if (device.RoomId is { } roomId && !await DeviceRows.RoomInHomeAsync(connection, transaction, homeId, roomId, ct))
        {
            return TypedResults.ValidationProblem(DeviceRows.UnknownRoom());
        }
        DeviceDto updated;
        try
        {
            await using var update = new NpgsqlCommand(
                $"""
                UPDATE devices SET room_id = $3, name = $4, kind = $5, external_id = $6, capabilities = $7, updated_at = now()
                WHERE id = $1 AND home_id = $2 RETURNING {DeviceRows.Columns}
                """, connection, transaction)
            {
                Parameters =
                {
                    Param(deviceId), Param(homeId), Param(device.RoomId), Param(device.Name), Param(device.Kind), Param(device.ExternalId),
                    new() { Value = JsonSerializer.Serialize(device.Capabilities, DeviceRows.Json), NpgsqlDbType = NpgsqlDbType.Jsonb },
                },
            };
            await using var reader = await update.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct))
            {
                return NoSuchDevice();
            }
            updated = DeviceRows.Read(reader);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            return ExternalIdTaken();
        }
        await outbox.AddAsync(connection, transaction,
            new DeviceUpdated(homeId, deviceId, updated.RoomId, updated.Name, updated.Kind, updated.ExternalId), ct);
        await transaction.CommitAsync(ct);
        lookups.Invalidate(deviceId);
        return TypedResults.Ok(updated);
    }

    internal static async Task<Results<NoContent, NotFound<ProblemDetails>>> DeleteDevice(
        Guid homeId, Guid deviceId, NpgsqlDataSource db, Outbox outbox, DeviceLookupCache lookups, DeviceStateView view, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using (var delete = new NpgsqlCommand("DELETE FROM devices WHERE id = $1 AND home_id = $2", connection, transaction)
                     { Parameters = { Param(deviceId), Param(homeId) } })
        {
            if (await delete.ExecuteNonQueryAsync(ct) == 0)
            {
                return NoSuchDevice();
            }
        }
        await outbox.AddAsync(connection, transaction, new DeviceRemoved(homeId, deviceId), ct);
        await transaction.CommitAsync(ct);
        lookups.Invalidate(deviceId);
        await view.RemoveAsync(deviceId);
        return TypedResults.NoContent();
    }

    internal static async Task<Ok<RebuildResult>> RebuildState(Guid homeId, DeviceStateView view, CancellationToken ct) =>
        TypedResults.Ok(new RebuildResult(homeId, await view.RebuildHomeAsync(homeId, ct)));
}
