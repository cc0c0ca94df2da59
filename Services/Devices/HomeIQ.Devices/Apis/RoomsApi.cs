using HomeIQ.Contracts;
using HomeIQ.EventBus.Postgres;
using HomeIQ.ServiceDefaults.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Npgsql;

namespace HomeIQ.Devices.Apis;

/// <summary>The rooms of a home.</summary>
public static class RoomsApi
{
    public sealed record RoomRequest(string? Name);
    public sealed record RoomDto(Guid Id, Guid HomeId, string Name, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

    private const string Columns = "id, home_id, name, created_at, updated_at";

    public static IEndpointRouteBuilder MapRoomsApi(this IEndpointRouteBuilder app)
    {
        var rooms = app.MapGroup("/api/v1/homes/{homeId:guid}/rooms");
        rooms.MapPost("/", CreateRoom).RequireAuthorization(HomePolicies.HomeWriter);
        rooms.MapGet("/", ListRooms).RequireAuthorization(HomePolicies.HomeMember);
        rooms.MapGet("/{roomId:guid}", GetRoom).RequireAuthorization(HomePolicies.HomeMember);
        rooms.MapPut("/{roomId:guid}", RenameRoom).RequireAuthorization(HomePolicies.HomeWriter);
        rooms.MapPatch("/{roomId:guid}", RenameRoom).RequireAuthorization(HomePolicies.HomeWriter);
        rooms.MapDelete("/{roomId:guid}", DeleteRoom).RequireAuthorization(HomePolicies.HomeWriter);
        return app;
    }

    private static NotFound<ProblemDetails> NoSuchRoom() => TypedResults.NotFound(new ProblemDetails { Title = "No such room", Status = 404 });

    private static RoomDto Read(NpgsqlDataReader reader) =>
        new(reader.GetGuid(0), reader.GetGuid(1), reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3), reader.GetFieldValue<DateTimeOffset>(4));

    internal static async Task<Results<Created<RoomDto>, ValidationProblem>> CreateRoom(Guid homeId, RoomRequest request, NpgsqlDataSource db, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (DeviceRows.ValidName(request.Name, errors) is not { } name)
        {
            return TypedResults.ValidationProblem(errors);
        }
        await using var insert = db.CreateCommand($"INSERT INTO rooms (id, home_id, name) VALUES ($1, $2, $3) RETURNING {Columns}");
        insert.Parameters.Add(new() { Value = Guid.CreateVersion7() });
        insert.Parameters.Add(new() { Value = homeId });
        insert.Parameters.Add(new() { Value = name });
        await using var reader = await insert.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        var room = Read(reader);
        return TypedResults.Created($"/api/v1/homes/{homeId}/rooms/{room.Id}", room);
    }

    internal static async Task<Ok<RoomDto[]>> ListRooms(Guid homeId, NpgsqlDataSource db, CancellationToken ct)
    {
        var result = new List<RoomDto>();
        await using var select = db.CreateCommand($"SELECT {Columns} FROM rooms WHERE home_id = $1 ORDER BY name, id");
        select.Parameters.Add(new() { Value = homeId });
        await using var reader = await select.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            result.Add(Read(reader));
        }
        return TypedResults.Ok(result.ToArray());
    }

    internal static async Task<Results<Ok<RoomDto>, NotFound<ProblemDetails>>> GetRoom(Guid homeId, Guid roomId, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var select = db.CreateCommand($"SELECT {Columns} FROM rooms WHERE id = $1 AND home_id = $2");
        select.Parameters.Add(new() { Value = roomId });
        select.Parameters.Add(new() { Value = homeId });
        await using var reader = await select.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? TypedResults.Ok(Read(reader)) : NoSuchRoom();
    }

    internal static async Task<Results<Ok<RoomDto>, ValidationProblem, NotFound<ProblemDetails>>> RenameRoom(
        Guid homeId, Guid roomId, RoomRequest request, NpgsqlDataSource db, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (DeviceRows.ValidName(request.Name, errors) is not { } name)
        {
            return TypedResults.ValidationProblem(errors);
        }
        await using var update = db.CreateCommand($"UPDATE rooms SET name = $3, updated_at = now() WHERE id = $1 AND home_id = $2 RETURNING {Columns}");
        update.Parameters.Add(new() { Value = roomId });
        update.Parameters.Add(new() { Value = homeId });
        update.Parameters.Add(new() { Value = name });
        await using var reader = await update.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? TypedResults.Ok(Read(reader)) : NoSuchRoom();
    }

    /// <summary>Deletes a room; its devices stay, without a room, and each of them publishes <see cref="DeviceUpdated"/>.</summary>
    internal static async Task<Results<NoContent, NotFound<ProblemDetails>>> DeleteRoom(
        Guid homeId, Guid roomId, NpgsqlDataSource db, Outbox outbox, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using (var delete = new NpgsqlCommand("DELETE FROM rooms WHERE id = $1 AND home_id = $2", connection, transaction)
                     { Parameters = { new() { Value = roomId }, new() { Value = homeId } } })
        {
            // Locks the room first, so no device can be moved into it while it goes.
            await using var lockRoom = new NpgsqlCommand("SELECT 1 FROM rooms WHERE id = $1 AND home_id = $2 FOR UPDATE", connection, transaction)
            { Parameters = { new() { Value = roomId }, new() { Value = homeId } } };
            if (await lockRoom.ExecuteScalarAsync(ct) is null)
            {
                return NoSuchRoom();
            }
            var moved = new List<DeviceUpdated>();
            await using (var unassign = new NpgsqlCommand(
                             "UPDATE devices SET room_id = NULL, updated_at = now() WHERE room_id = $1 RETURNING id, name, kind, external_id", connection, transaction)
                         { Parameters = { new() { Value = roomId } } })
            await using (var reader = await unassign.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    moved.Add(new DeviceUpdated(homeId, reader.GetGuid(0), null, reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3)));
                }
            }
            foreach (var updated in moved)
            {
                await outbox.AddAsync(connection, transaction, updated, ct);
            }
            await delete.ExecuteNonQueryAsync(ct);
        }
        await transaction.CommitAsync(ct);
        return TypedResults.NoContent();
    }
}
