namespace HomeIQ.Notifications.Infrastructure;

/// <summary>
/// The inboxes and preferences. A user has at most one notification per source key (the unique key makes a redelivered or twice
/// published event insert nothing), and <c>inbox_cursors</c> numbers each user's notifications: the row is locked while a notification
/// is added, so a user's numbers commit in order and <c>since</c> never skips one that commits late.
/// </summary>
internal static class NotificationsSchema
{
    public const string Name = "notifications";

    public const string Ddl = """
        CREATE TABLE IF NOT EXISTS inbox_cursors (user_id uuid PRIMARY KEY, last_seq bigint NOT NULL DEFAULT 0);
        CREATE TABLE IF NOT EXISTS notifications (
            id          uuid        PRIMARY KEY,
            user_id     uuid        NOT NULL,
            seq         bigint      NOT NULL,
            home_id     uuid        NOT NULL,
            source_key  text        NOT NULL,
            kind        text        NOT NULL,
            title       text        NOT NULL,
            message     text        NOT NULL,
            subject_id  uuid        NULL,
            device_id   uuid        NULL,
            occurred_at timestamptz NOT NULL,
            created_at  timestamptz NOT NULL DEFAULT now(),
            read_at     timestamptz NULL,
            UNIQUE (user_id, source_key),
            UNIQUE (user_id, seq)
        );
        CREATE INDEX IF NOT EXISTS notifications_by_home ON notifications (user_id, home_id, seq);
        CREATE INDEX IF NOT EXISTS notifications_by_subject ON notifications (subject_id) WHERE subject_id IS NOT NULL;
        CREATE TABLE IF NOT EXISTS notification_preferences (
            user_id     uuid        PRIMARY KEY,
            time_zone   text        NOT NULL,
            quiet_from  time        NULL,
            quiet_to    time        NULL,
            muted_kinds text[]      NOT NULL DEFAULT '{}',
            updated_at  timestamptz NOT NULL DEFAULT now()
        );
        """;
}
