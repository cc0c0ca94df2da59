using HomeIQ.Notifications.Domain;
using HomeIQ.ServiceDefaults.Time;
using Microsoft.AspNetCore.SignalR;
using Npgsql;

namespace HomeIQ.Notifications.Infrastructure;

/// <summary>
/// Puts a notification in the inbox of every member of a home, once per member (the unique source key), and pushes what it added after
/// the commit to each member's live connections, on any replica (the Redis backplane), unless the member is in quiet hours. A kind the
/// member muted is not stored at all.
/// </summary>
internal sealed class InboxWriter(NpgsqlDataSource db, HomeMembers members, IHubContext<NotificationsHub> hub, TimeProvider clock, ILogger<InboxWriter> logger)
{
    // Each member's cursor row is locked (in user id order, so two fan-outs never deadlock) until the commit: a user's seq numbers
    // commit in order, and a concurrent duplicate waits and then finds the source key taken.
    private const string AddCursors = "INSERT INTO inbox_cursors (user_id) SELECT u FROM unnest($1::uuid[]) AS u ORDER BY u ON CONFLICT DO NOTHING";
    private const string LockCursors = "SELECT user_id FROM inbox_cursors WHERE user_id = ANY($1) ORDER BY user_id FOR UPDATE";

    private const string Insert = """
        WITH fresh AS (
            INSERT INTO notifications (id, user_id, seq, home_id, source_key, kind, title, message, subject_id, device_id, occurred_at)
            SELECT gen_random_uuid(), c.user_id, c.last_seq + 1, $2::uuid, $3::text, $4::text, $5::text, $6::text, $7::uuid, $8::uuid, $9::timestamptz
            FROM inbox_cursors c
            WHERE c.user_id = ANY($1)
              AND NOT EXISTS (SELECT 1 FROM notification_preferences p WHERE p.user_id = c.user_id AND $4::text = ANY(p.muted_kinds))
            ON CONFLICT (user_id, source_key) DO NOTHING
            RETURNING id, user_id, seq, created_at),
        bumped AS (UPDATE inbox_cursors c SET last_seq = f.seq FROM fresh f WHERE c.user_id = f.user_id)
        SELECT f.id, f.user_id, f.seq, f.created_at, p.time_zone, p.quiet_from, p.quiet_to
        FROM fresh f LEFT JOIN notification_preferences p ON p.user_id = f.user_id
        """;

    /// <summary>Adds <paramref name="draft"/> to the inboxes of the home's members; returns how many inboxes got it now.</summary>
    public async Task<int> DeliverAsync(Guid homeId, NotificationDraft draft, CancellationToken ct)
    {
        var userIds = await members.UserIdsAsync(homeId, ct);
        if (userIds.Length == 0)
        {
            return 0;
        }
        var added = new List<(Guid UserId, NotificationDto Notification, bool Quiet)>();
        await using (var connection = await db.OpenConnectionAsync(ct))
        await using (var transaction = await connection.BeginTransactionAsync(ct))
        {
            foreach (var sql in new[] { AddCursors, LockCursors })
            {
                await using var cursors = new NpgsqlCommand(sql, connection, transaction) { Parameters = { new() { Value = userIds } } };
                await cursors.ExecuteNonQueryAsync(ct);
            }
            await using (var insert = new NpgsqlCommand(Insert, connection, transaction))
            {
                foreach (var value in new object?[] { userIds, homeId, draft.SourceKey, draft.Kind, Clean(draft.Title), Clean(draft.Message), draft.SubjectId,
                             draft.DeviceId, draft.OccurredAt.UtcDateTime })
                {
                    insert.Parameters.Add(new() { Value = value ?? DBNull.Value });
                }
                await using var reader = await insert.ExecuteReaderAsync(ct);
                var now = clock.GetUtcNow();
                while (await reader.ReadAsync(ct))
                {
                    var notification = new NotificationDto(reader.GetGuid(0), reader.GetInt64(2), homeId, draft.Kind, Clean(draft.Title), Clean(draft.Message),
                        draft.SubjectId, draft.DeviceId, draft.OccurredAt, new DateTimeOffset(reader.GetDateTime(3), TimeSpan.Zero), null);
                    var quiet = !reader.IsDBNull(5) && !reader.IsDBNull(6) && TimeZones.Find(reader.GetString(4)) is { } zone
                        && new DailyWindow(reader.GetFieldValue<TimeOnly>(5), reader.GetFieldValue<TimeOnly>(6)).Contains(now, zone);
                    added.Add((reader.GetGuid(1), notification, quiet));
                }
            }
            await transaction.CommitAsync(ct);
        }
        await Task.WhenAll(added.Where(a => !a.Quiet).Select(a => PushAsync(a.UserId, a.Notification)));
        return added.Count;
    }

    /// <summary>Best effort: the inbox is the record, and a client that reconnects fetches what it missed. A failed push is logged, not retried.</summary>
    private async Task PushAsync(Guid userId, NotificationDto notification)
    {
        try
        {
            await hub.Clients.User(userId.ToString()).SendAsync(NotificationsHub.NotificationMethod, notification);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning(ex, "Could not push notification {NotificationId} to user {UserId}; it is in the inbox.", notification.Id, userId);
        }
    }

    // U+0000 is refused by Postgres text columns; a title with one must not make the event undeliverable.
    private static string Clean(string text) => text.Replace("\0", "", StringComparison.Ordinal);
}
