namespace HomeIQ.Energy.Infrastructure;

/// <summary>
/// Energy's own copy of the energy and power points (so totals are a function of the set of points, whatever their order or
/// repetition), the hourly kWh recomputed from them, what Energy knows of each device, and the tariff versions of each home.
/// </summary>
internal static class EnergySchema
{
    public const string Name = "energy";

    public const string Ddl = """
        CREATE TABLE IF NOT EXISTS energy_points (
            device_id uuid NOT NULL, metric text NOT NULL, ts timestamptz NOT NULL, value double precision NOT NULL, home_id uuid NOT NULL,
            PRIMARY KEY (device_id, metric, ts));
        CREATE TABLE IF NOT EXISTS energy_hourly (
            home_id uuid NOT NULL, device_id uuid NOT NULL, metric text NOT NULL, hour timestamptz NOT NULL, kwh double precision NOT NULL,
            PRIMARY KEY (device_id, metric, hour));
        CREATE INDEX IF NOT EXISTS energy_hourly_home ON energy_hourly (home_id, hour);
        CREATE TABLE IF NOT EXISTS energy_devices (
            device_id uuid PRIMARY KEY, home_id uuid NOT NULL, name text NULL, kind text NULL, room_id uuid NULL,
            role text NULL CHECK (role IN ('consumer', 'producer')), has_counter boolean NOT NULL DEFAULT false,
            removed boolean NOT NULL DEFAULT false, registry_at timestamptz NULL);
        CREATE INDEX IF NOT EXISTS energy_devices_home ON energy_devices (home_id);
        CREATE TABLE IF NOT EXISTS energy_tariffs (
            home_id uuid NOT NULL, effective_from timestamptz NOT NULL, time_zone text NOT NULL, currency text NOT NULL,
            price_per_kwh double precision NOT NULL, standing_charge_per_day double precision NOT NULL, periods jsonb NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (home_id, effective_from));
        """;
}
