using System.Security.Claims;
using HomeIQ.Notifications.Domain;
using HomeIQ.Notifications.Infrastructure;
using HomeIQ.Postgres;
using HomeIQ.ServiceDefaults.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Npgsql;

namespace HomeIQ.Notifications.Apis;

/// <summary>The caller's inbox (all homes, or one), its unread count, marking read, and a member's message to the home.</summary>
public static class NotificationsApi
{
    private const int DefaultLimit = 50;
    private const int MaxLimit = 200;

    private const string Columns = "id, seq, home_id, kind, title, message, subject_id, device_id, occurred_at, created_at, read_at";

    public static IEndpointRouteBuilder MapNotificationsApi(this IEndpointRouteBuilder app)
    {
        var mine = app.MapGroup("/api/v1/notifications").WithTags("Notifications").RequireAuthorization();
        mine.MapGet("/", ListMine);
        mine.MapGet("/unread-count", CountUnread);
        mine.MapPost("/{id:guid}/read", MarkRead);
        mine.MapPost("/read-all", MarkAllRead);
        var home = app.MapGroup("/api/v1/homes/{homeId:guid}/notifications").WithTags("Notifications");
        home.MapGet("/", ListHome).RequireAuthorization(HomePolicies.HomeMember);
        home.MapPost("/", Announce).RequireAuthorization(HomePolicies.HomeWriter);
        return app;
    }

    private static ProblemHttpResult UsersOnly() =>
        TypedResults.Problem(title: "Users only", detail: "A service token has no inbox.", statusCode: StatusCodes.Status403Forbidden);

    private static NpgsqlParameter Param(object? value) => new() { Value = value ?? DBNull.Value };

    /// <summary>
    /// The caller's notifications of every home, newest first (page with <c>after</c>), or, with <c>since</c>, those after that seq
    /// oldest first: what a client that reconnects missed. <c>unread=true</c> keeps the unread ones.
    /// </summary>
    internal static Task<Results<Ok<NotificationPage>, ValidationProblem, ProblemHttpResult>> ListMine(string? unread, string? since, string? after,
        string? limit, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct) => ListAsync(null, unread, since, after, limit, user, db, ct);

    /// <summary>The caller's notifications of one home (any member, guests too); the same parameters.</summary>
    internal static Task<Results<Ok<NotificationPage>, ValidationProblem, ProblemHttpResult>> ListHome(Guid homeId, string? unread, string? since, string? after,
        string? limit, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct) => ListAsync(homeId, unread, since, after, limit, user, db, ct);

    private static async Task<Results<Ok<NotificationPage>, ValidationProblem, ProblemHttpResult>> ListAsync(Guid? homeId, string? unread, string? since,
        string? after, string? limit, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        if (Caller.UserId(user) is not { } userId)
        {
            return UsersOnly();
        }
        var query = new InboxQuery();
        var unreadOnly = query.Flag("unread", unread) ?? false;
        var sinceSeq = query.Seq("since", since);
        var afterSeq = query.Seq("after", after);
        var take = query.Limit(limit, DefaultLimit, MaxLimit);
        if (sinceSeq is not null && afterSeq is not null)
        {
            query.Add("since", "Give 'since' (catch up, oldest first) or 'after' (page back, newest first), not both.");
        }
        if (query.Any)
        {
            return TypedResults.ValidationProblem(query.Errors);
        }
        var catchingUp = sinceSeq is not null;
        var sql = $"""
            SELECT {Columns} FROM notifications
            WHERE user_id = $1 AND ($2::uuid IS NULL OR home_id = $2) AND (NOT $3 OR read_at IS NULL)
              AND ($4::bigint IS NULL OR seq {(catchingUp ? ">" : "<")} $4)
            ORDER BY seq {(catchingUp ? "ASC" : "DESC")} LIMIT $5
            """;
        await using var command = db.CreateCommand(sql);
        command.Parameters.AddRange(new[] { Param(userId), Param(homeId), Param(unreadOnly), Param(sinceSeq ?? afterSeq), Param(take + 1) });
        var rows = await ReadAsync(command, ct);
        long? next = null;
        if (rows.Count > take)
        {
            rows.RemoveAt(rows.Count - 1);
            next = rows[^1].Seq;
        }
        return TypedResults.Ok(new NotificationPage(rows, next));
    }

    /// <summary>How many of the caller's notifications are unread, in all and per home.</summary>
    internal static async Task<Results<Ok<UnreadCount>, ProblemHttpResult>> CountUnread(ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        if (Caller.UserId(user) is not { } userId)
        {
            return UsersOnly();
        }
        await using var command = db.CreateCommand("SELECT home_id, count(*)::int FROM notifications WHERE user_id = $1 AND read_at IS NULL GROUP BY home_id");
        command.Parameters.Add(Param(userId));
        var byHome = new Dictionary<Guid, int>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            byHome[reader.GetGuid(0)] = reader.GetInt32(1);
        }
        return TypedResults.Ok(new UnreadCount(byHome.Values.Sum(), byHome));
    }

    /// <summary>Marks one of the caller's notifications read (again: no change); another user's is not found.</summary>
    internal static async Task<Results<Ok<NotificationDto>, NotFound<ProblemDetails>, ProblemHttpResult>> MarkRead(Guid id, ClaimsPrincipal user,
        NpgsqlDataSource db, CancellationToken ct)
    {
        if (Caller.UserId(user) is not { } userId)
        {
            return UsersOnly();
        }
        await using var command = db.CreateCommand(
            $"UPDATE notifications SET read_at = coalesce(read_at, now()) WHERE user_id = $1 AND id = $2 RETURNING {Columns}");
        command.Parameters.AddRange(new[] { Param(userId), Param(id) });
        return await ReadAsync(command, ct) is [var notification]
            ? TypedResults.Ok(notification)
            : TypedResults.NotFound(new ProblemDetails { Title = "No such notification", Status = 404 });
    }

    /// <summary>Marks the caller's unread notifications read: all, or one home's, up to a seq when given.</summary>
    internal static async Task<Results<Ok<Marked>, ValidationProblem, ProblemHttpResult>> MarkAllRead(MarkAllReadRequest? request, ClaimsPrincipal user,
        NpgsqlDataSource db, CancellationToken ct)
    {
        if (Caller.UserId(user) is not { } userId)
        {
            return UsersOnly();
        }
        if (request?.UpTo < 0)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["upTo"] = ["'upTo' must be a seq, 0 or more."] });
        }
        await using var command = db.CreateCommand("""
            UPDATE notifications SET read_at = now()
            WHERE user_id = $1 AND read_at IS NULL AND ($2::uuid IS NULL OR home_id = $2) AND ($3::bigint IS NULL OR seq <= $3)
            """);
        command.Parameters.AddRange(new[] { Param(userId), Param(request?.HomeId), Param(request?.UpTo) });
        return TypedResults.Ok(new Marked(await command.ExecuteNonQueryAsync(ct)));
    }

    /// <summary>A message from an owner or member to every member of the home (kind <c>message</c>), pushed live like any other.</summary>
    internal static async Task<Results<Ok<Announced>, ValidationProblem>> Announce(Guid homeId, AnnounceRequest request, InboxWriter inbox,
        TimeProvider clock, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var title = request.Title?.Trim() ?? "";
        var message = request.Message?.Trim() ?? "";
        if (title.Length is 0 or > 200 || StoredText.HasControlCharacters(title))
        {
            errors["title"] = ["A title of 1 to 200 characters without control characters is required."];
        }
        if (message.Length is 0 or > 2000 || StoredText.HasControlCharacters(message.Replace('\n', ' ')))
        {
            errors["message"] = ["A message of 1 to 2000 characters without control characters (line breaks are fine) is required."];
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var id = Guid.CreateVersion7();
        var delivered = await inbox.DeliverAsync(homeId,
            new NotificationDraft($"message:{id}", NotificationKinds.Message, title, message, null, null, clock.GetUtcNow()), ct);
        return TypedResults.Ok(new Announced(delivered));
    }

    private static async Task<List<NotificationDto>> ReadAsync(NpgsqlCommand command, CancellationToken ct)
    {
        var rows = new List<NotificationDto>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            DateTimeOffset Time(int i) => new(reader.GetDateTime(i), TimeSpan.Zero);
            Guid? Id(int i) => reader.IsDBNull(i) ? null : reader.GetGuid(i);
            rows.Add(new NotificationDto(reader.GetGuid(0), reader.GetInt64(1), reader.GetGuid(2), reader.GetString(3), reader.GetString(4), reader.GetString(5),
                Id(6), Id(7), Time(8), Time(9), reader.IsDBNull(10) ? null : Time(10)));
        }
        return rows;
    }
}
