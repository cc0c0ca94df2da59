namespace HomeIQ.Devices.Infrastructure;

/// <summary>The registry and state tables; AddPostgresSchema creates them before the service serves.</summary>
internal static class DevicesSchema
{
    public const string Name = "devices";

    public const string Ddl = """
        CREATE TABLE IF NOT EXISTS rooms (
            id uuid PRIMARY KEY, home_id uuid NOT NULL, name text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
        CREATE INDEX IF NOT EXISTS rooms_home ON rooms (home_id, name);
        CREATE TABLE IF NOT EXISTS devices (
            id uuid PRIMARY KEY, home_id uuid NOT NULL, room_id uuid NULL REFERENCES rooms ON DELETE SET NULL, name text NOT NULL,
            kind text NOT NULL CHECK (kind IN ('sensor', 'switch', 'dimmer', 'thermostat', 'meter')), external_id text NULL,
            capabilities jsonb NOT NULL DEFAULT '[]', created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
        CREATE UNIQUE INDEX IF NOT EXISTS devices_home_external_id ON devices (home_id, external_id) WHERE external_id IS NOT NULL;
        CREATE INDEX IF NOT EXISTS devices_home ON devices (home_id, created_at, id);
        CREATE INDEX IF NOT EXISTS devices_room ON devices (room_id) WHERE room_id IS NOT NULL;
        CREATE TABLE IF NOT EXISTS device_state (
            device_id uuid NOT NULL REFERENCES devices ON DELETE CASCADE, metric text NOT NULL, value jsonb NOT NULL, unit text NULL,
            ts timestamptz NOT NULL, PRIMARY KEY (device_id, metric));
        """;
}
