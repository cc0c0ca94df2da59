namespace HomeIQ.Automations.Infrastructure;

/// <summary>
/// Rules and their trigger state, scenes, runs with their steps (the saga's persisted state), and the last known state of each device
/// (what a compensation puts back). A step's <c>command_id</c> is unique: a reply finds its step, and completes it once.
/// </summary>
internal static class AutomationsSchema
{
    public const string Name = "automations";

    public const string Ddl = """
        CREATE TABLE IF NOT EXISTS rules (
            id           uuid        PRIMARY KEY,
            home_id      uuid        NOT NULL,
            name         text        NOT NULL,
            enabled      boolean     NOT NULL,
            trigger_type text        NOT NULL,
            device_id    uuid        NULL,
            definition   jsonb       NOT NULL,
            created_at   timestamptz NOT NULL DEFAULT now(),
            updated_at   timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX IF NOT EXISTS rules_by_home ON rules (home_id, trigger_type) WHERE enabled;
        CREATE TABLE IF NOT EXISTS rule_trackers (
            rule_id uuid        PRIMARY KEY REFERENCES rules ON DELETE CASCADE,
            phase   smallint    NOT NULL,
            since   timestamptz NULL,
            last_ts timestamptz NULL,
            due_at  timestamptz NULL
        );
        CREATE INDEX IF NOT EXISTS rule_trackers_due ON rule_trackers (due_at) WHERE due_at IS NOT NULL;
        CREATE TABLE IF NOT EXISTS rule_schedules (
            rule_id  uuid        PRIMARY KEY REFERENCES rules ON DELETE CASCADE,
            next_due timestamptz NOT NULL
        );
        CREATE INDEX IF NOT EXISTS rule_schedules_due ON rule_schedules (next_due);
        CREATE TABLE IF NOT EXISTS scenes (
            id         uuid        PRIMARY KEY,
            home_id    uuid        NOT NULL,
            name       text        NOT NULL,
            steps      jsonb       NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX IF NOT EXISTS scenes_by_home ON scenes (home_id, name);
        CREATE TABLE IF NOT EXISTS runs (
            id          uuid        PRIMARY KEY,
            home_id     uuid        NOT NULL,
            source      text        NOT NULL CHECK (source IN ('rule', 'scene')),
            source_id   uuid        NOT NULL,
            name        text        NOT NULL,
            cause       text        NOT NULL,
            status      text        NOT NULL,
            reason      text        NULL,
            started_at  timestamptz NOT NULL DEFAULT now(),
            finished_at timestamptz NULL
        );
        CREATE INDEX IF NOT EXISTS runs_by_home ON runs (home_id, started_at DESC, id DESC);
        CREATE TABLE IF NOT EXISTS run_steps (
            run_id              uuid        NOT NULL REFERENCES runs ON DELETE CASCADE,
            phase               text        NOT NULL CHECK (phase IN ('do', 'undo')),
            position            int         NOT NULL,
            device_id           uuid        NOT NULL,
            action              text        NOT NULL,
            parameters          jsonb       NOT NULL,
            status              text        NOT NULL,
            reason              text        NULL,
            command_id          uuid        NULL UNIQUE,
            previous_state      text        NULL,
            previous_attributes jsonb       NULL,
            deadline            timestamptz NULL,
            sent_at             timestamptz NULL,
            completed_at        timestamptz NULL,
            PRIMARY KEY (run_id, phase, position)
        );
        CREATE INDEX IF NOT EXISTS run_steps_waiting ON run_steps (deadline) WHERE status = 'sent';
        CREATE TABLE IF NOT EXISTS device_states (
            device_id  uuid        PRIMARY KEY,
            home_id    uuid        NOT NULL,
            state      text        NOT NULL,
            attributes jsonb       NULL,
            updated_at timestamptz NOT NULL
        );
        """;
}
