namespace HomeIQ.Identity.Infrastructure;

/// <summary>Identity's tables; AddPostgresSchema creates them before the service serves.</summary>
internal static class IdentitySchema
{
    public const string Name = "identity";

    public const string Ddl = """
        CREATE TABLE IF NOT EXISTS users (
            id uuid PRIMARY KEY, email text NOT NULL UNIQUE, display_name text NOT NULL, password_hash text NOT NULL,
            failed_logins int NOT NULL DEFAULT 0, locked_until timestamptz NULL, created_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE IF NOT EXISTS homes (id uuid PRIMARY KEY, name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE IF NOT EXISTS memberships (
            home_id uuid NOT NULL REFERENCES homes ON DELETE CASCADE, user_id uuid NOT NULL REFERENCES users ON DELETE CASCADE,
            role text NOT NULL CHECK (role IN ('owner', 'member', 'guest')), PRIMARY KEY (home_id, user_id));
        CREATE TABLE IF NOT EXISTS refresh_tokens (
            token_hash bytea PRIMARY KEY, family_id uuid NOT NULL, user_id uuid NOT NULL REFERENCES users ON DELETE CASCADE,
            expires_at timestamptz NOT NULL, used_at timestamptz NULL, revoked_at timestamptz NULL);
        CREATE INDEX IF NOT EXISTS refresh_tokens_family ON refresh_tokens (family_id);
        CREATE TABLE IF NOT EXISTS hub_keys (
            id uuid PRIMARY KEY, home_id uuid NOT NULL REFERENCES homes ON DELETE CASCADE, name text NOT NULL,
            key_hash bytea NOT NULL UNIQUE, prefix text NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), revoked_at timestamptz NULL);
        CREATE TABLE IF NOT EXISTS signing_keys (kid text PRIMARY KEY, private_key text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
        """;
}
