namespace HomeIQ.EventBus.Postgres;

/// <summary>The inbox and outbox tables, created in the service's own database before its hosted services start.</summary>
internal static class EventBusSchema
{
    public const string Name = "eventbus";

    public const string Ddl = """
        CREATE TABLE IF NOT EXISTS eventbus_outbox (
            id              uuid PRIMARY KEY,
            event_name      text        NOT NULL,
            payload         json        NOT NULL,
            trace_parent    text        NULL,
            trace_state     text        NULL,
            created_at      timestamptz NOT NULL DEFAULT now(),
            attempts        int         NOT NULL DEFAULT 0,
            next_attempt_at timestamptz NOT NULL DEFAULT now(),
            last_error      text        NULL,
            published_at    timestamptz NULL
        );
        CREATE INDEX IF NOT EXISTS eventbus_outbox_pending ON eventbus_outbox (next_attempt_at) WHERE published_at IS NULL;
        CREATE TABLE IF NOT EXISTS eventbus_inbox (
            event_id   uuid        NOT NULL,
            handler    text        NOT NULL,
            handled_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (event_id, handler)
        );
        """;
}
