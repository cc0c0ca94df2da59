namespace HomeIQ.Readings.Infrastructure;

/// <summary>
/// The raw table (partitioned by day, partitions made by <see cref="ReadingPartitions"/>), the exact 1-hour rollup and the
/// latest value per device metric. There is no DEFAULT partition: it would block creating a day partition once it held rows.
/// </summary>
internal static class ReadingsSchema
{
    public const string Name = "readings";

    public const string Ddl = """
        CREATE TABLE IF NOT EXISTS readings (
            home_id uuid NOT NULL, device_id uuid NOT NULL, metric text NOT NULL, ts timestamptz NOT NULL,
            value double precision NOT NULL, unit text NOT NULL, seq bigint NULL,
            PRIMARY KEY (device_id, metric, ts)) PARTITION BY RANGE (ts);
        CREATE TABLE IF NOT EXISTS readings_1h (
            home_id uuid NOT NULL, device_id uuid NOT NULL, metric text NOT NULL, bucket timestamptz NOT NULL,
            min double precision NOT NULL, max double precision NOT NULL, sum double precision NOT NULL, count bigint NOT NULL,
            PRIMARY KEY (device_id, metric, bucket));
        CREATE TABLE IF NOT EXISTS readings_latest (
            home_id uuid NOT NULL, device_id uuid NOT NULL, metric text NOT NULL, ts timestamptz NOT NULL,
            value double precision NOT NULL, unit text NOT NULL,
            PRIMARY KEY (device_id, metric));
        CREATE INDEX IF NOT EXISTS readings_latest_home ON readings_latest (home_id, device_id, metric);
        """;

    /// <summary>Buckets start at whole UTC minutes, hours and days counted from this origin.</summary>
    public static readonly DateTime Origin = new(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc);
}
