namespace HomeIQ.Anomalies.Infrastructure;

/// <summary>
/// Learned state per series and the anomalies. At most one unresolved (open or acknowledged) anomaly per device, metric and kind:
/// the partial unique index makes a second raise a no-op even if two replicas or a redelivery race.
/// </summary>
internal static class AnomaliesSchema
{
    public const string Name = "anomalies";

    public const string Ddl = """
        CREATE TABLE IF NOT EXISTS anomaly_series (
            device_id      uuid        NOT NULL,
            metric         text        NOT NULL,
            home_id        uuid        NOT NULL,
            state          bytea       NOT NULL,
            version        bigint      NOT NULL,
            last_ts        timestamptz NOT NULL,
            offline_due_at timestamptz NULL,
            updated_at     timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (device_id, metric)
        );
        CREATE INDEX IF NOT EXISTS anomaly_series_offline_due ON anomaly_series (offline_due_at) WHERE offline_due_at IS NOT NULL;
        CREATE TABLE IF NOT EXISTS anomalies (
            id              uuid             PRIMARY KEY,
            home_id         uuid             NOT NULL,
            device_id       uuid             NOT NULL,
            metric          text             NOT NULL,
            kind            text             NOT NULL,
            status          text             NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved')),
            severity        text             NOT NULL,
            description     text             NOT NULL,
            value           double precision NULL,
            expected_low    double precision NULL,
            expected_high   double precision NULL,
            detected_at     timestamptz      NOT NULL,
            created_at      timestamptz      NOT NULL DEFAULT now(),
            acknowledged_at timestamptz      NULL,
            acknowledged_by text             NULL,
            resolved_at     timestamptz      NULL
        );
        CREATE UNIQUE INDEX IF NOT EXISTS anomalies_one_unresolved ON anomalies (device_id, metric, kind) WHERE resolved_at IS NULL;
        CREATE INDEX IF NOT EXISTS anomalies_by_home ON anomalies (home_id, detected_at DESC, id DESC);
        """;
}
