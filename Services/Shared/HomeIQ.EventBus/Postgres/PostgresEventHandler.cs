using HomeIQ.Contracts;
using Npgsql;

namespace HomeIQ.EventBus.Postgres;

/// <summary>
/// A handler whose work is one Postgres transaction that also records the event id in the inbox. A redelivered event
/// finds its id there and is skipped, so redelivery is harmless; the message is acked only after the commit.
/// </summary>
public abstract class PostgresEventHandler<TEvent>(NpgsqlDataSource dataSource) : IIntegrationEventHandler<TEvent> where TEvent : IntegrationEvent
{
    /// <summary>The key the inbox records handled events under; by default the handler's type name.</summary>
    protected virtual string HandlerName => GetType().Name;

    /// <inheritdoc />
    public async Task HandleAsync(TEvent @event, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(@event);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var inbox = new NpgsqlCommand(
                         "INSERT INTO eventbus_inbox (event_id, handler) VALUES ($1, $2) ON CONFLICT DO NOTHING", connection, transaction)
                     { Parameters = { new() { Value = @event.Id }, new() { Value = HandlerName } } })
        {
            if (await inbox.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
            {
                await OnDuplicateAsync(@event, cancellationToken).ConfigureAwait(false);
                return; // handled before: the rollback on dispose leaves nothing behind
            }
        }
        await HandleAsync(@event, connection, transaction, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Called instead of the work when the event was handled before (a redelivery or a repeated publish).</summary>
    protected virtual Task OnDuplicateAsync(TEvent @event, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The handler's work, inside the transaction that records the event in the inbox.</summary>
    protected abstract Task HandleAsync(TEvent @event, NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken);
}
