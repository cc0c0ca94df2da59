using Microsoft.Extensions.Hosting;
using Npgsql;

namespace HomeIQ.EventBus.Postgres;

/// <summary>
/// Creates the inbox and outbox tables in the service's own database before the service starts, under an advisory lock
/// so replicas starting together do not race.
/// </summary>
internal sealed class EventBusSchema(NpgsqlDataSource dataSource) : IHostedService
{
    private const long LockKey = 0x486F6D6549510001; // "HomeIQ" + 1: the event bus schema

    private const string Ddl = """
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

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var lockCommand = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({LockKey})", connection, transaction))
        {
            await lockCommand.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await using (var ddl = new NpgsqlCommand(Ddl, connection, transaction))
        {
            await ddl.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
